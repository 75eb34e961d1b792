#include "tools/mock-qwen/requests.h"

#include <simdjson.h>

#include "tools/mock-qwen/json_util.h"

namespace qp::mock {
namespace {

namespace od = simdjson::ondemand;

qp::Status bad(std::string msg) { return qp::Status(qp::Code::kInvalidArgument, std::move(msg)); }

constexpr std::string_view kInvalidJson = "Invalid input JSON body.";  // invented

// Parses `body` as one JSON object and calls on_field(key, value) for each
// member in document order. Malformed JSON, trailing bytes or a non-OK
// Status from on_field end the walk with that error.
template <class F>
qp::Status for_each_field(std::string_view body, F&& on_field) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) {
    return bad(std::string(kInvalidJson));
  }
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad(std::string(kInvalidJson));
    od::value val;
    if (field.value().get(val)) return bad(std::string(kInvalidJson));
    if (qp::Status st = on_field(key, val); !st.ok()) return st;
  }
  if (!json_at_end(doc)) return bad(std::string(kInvalidJson));
  return qp::Status();
}

// Reads a string or null into *out (null -> nullopt). False on other types.
bool get_nullable_string(od::value v, std::optional<std::string>* out) {
  bool is_null = false;
  if (!v.is_null().get(is_null) && is_null) {
    out->reset();
    return true;
  }
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out->emplace(s);
  return true;
}

qp::Status parse_content(od::value v, CompletionRequest* r) {
  od::json_type type;
  if (v.type().get(type)) return bad("Invalid input message content.");
  if (type == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) return bad("Invalid input message content.");
    r->content.assign(s);
    return qp::Status();
  }
  od::array parts;
  if (type != od::json_type::array || v.get_array().get(parts)) {
    return bad("Invalid input message content.");
  }
  bool first_text = true;
  for (auto part : parts) {
    od::object obj;
    if (part.get_object().get(obj)) return bad("Invalid input message content.");
    std::string_view text;
    bool have_text = false;
    std::string part_type;
    std::vector<std::pair<std::string, std::string>> fields;  // other string fields
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return bad("Invalid input message content.");
      if (key == "text") {
        if (field.value().get_string().get(text)) return bad("Invalid input message content.");
        have_text = true;
      } else {
        std::string_view value;
        if (field.value().get_string().get(value)) continue;
        if (key == "type") part_type.assign(value);
        fields.emplace_back(std::string(key), std::string(value));
      }
    }
    if (!have_text) {
      for (auto& [name, value] : fields) {
        if (name == part_type) r->media.emplace_back(part_type, std::move(value));
      }
    }
    if (have_text) {
      if (!first_text) r->content.push_back('\n');
      r->content.append(text);
      first_text = false;
    } else {
      ++r->attachments;
    }
  }
  return qp::Status();
}

qp::Status parse_feature_config(od::value v, CompletionRequest* r) {
  od::object obj;
  if (v.get_object().get(obj)) return qp::Status();  // ignored unless an object
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad(std::string(kInvalidJson));
    od::value val;
    if (field.value().get(val)) return bad(std::string(kInvalidJson));
    if (key == "thinking_enabled") {
      bool b = false;
      if (!val.get_bool().get(b)) r->thinking_enabled = b;
    } else if (key == "thinking_format") {
      std::string_view s;
      if (!val.get_string().get(s)) r->thinking_format.assign(s);
    } else if (key == "thinking_budget") {
      int64_t n = 0;
      if (!val.get_int64().get(n)) r->thinking_budget = n;
    } else if (key == "thinking_mode") {
      std::string_view s;
      if (!val.get_string().get(s)) r->thinking_mode.assign(s);
    } else if (key == "auto_search") {
      bool b = false;
      if (!val.get_bool().get(b)) r->auto_search = b;
    }
  }
  return qp::Status();
}

// Parent ids found in messages[0]: "parent_id" wins over "parentId".
struct MessageParents {
  bool have_snake = false;
  std::optional<std::string> snake;  // parent_id
  bool have_camel = false;
  std::optional<std::string> camel;  // parentId
};

// Parses messages[0] fully; the caller only counts the others.
qp::Status parse_message(od::value v, CompletionRequest* r, MessageParents* parents) {
  od::object obj;
  if (v.get_object().get(obj)) return bad("Invalid input message.");
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad(std::string(kInvalidJson));
    od::value val;
    if (field.value().get(val)) return bad(std::string(kInvalidJson));
    std::string_view s;
    if (key == "role") {
      if (val.get_string().get(s)) return bad("Invalid input message role.");
      r->role.assign(s);
    } else if (key == "content") {
      if (auto st = parse_content(val, r); !st.ok()) return st;
    } else if (key == "chat_type") {
      if (!val.get_string().get(s) && !s.empty()) r->chat_type.assign(s);
    } else if (key == "feature_config") {
      if (auto st = parse_feature_config(val, r); !st.ok()) return st;
    } else if (key == "parent_id") {
      if (!get_nullable_string(val, &parents->snake)) return bad("Invalid input parent_id.");
      parents->have_snake = true;
    } else if (key == "parentId") {
      if (!get_nullable_string(val, &parents->camel)) return bad("Invalid input parentId.");
      parents->have_camel = true;
    }
  }
  return qp::Status();
}

}  // namespace

qp::Result<CompletionRequest> parse_completion_request(std::string_view body) {
  CompletionRequest r;
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) {
    return bad(std::string(kInvalidJson));
  }
  bool have_top_parent = false;
  std::optional<std::string> top_parent;
  MessageParents parents;
  bool have_messages = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad(std::string(kInvalidJson));
    od::value val;
    if (field.value().get(val)) return bad(std::string(kInvalidJson));
    std::string_view s;
    if (key == "stream") {
      if (val.get_bool().get(r.stream)) return bad("Invalid input stream.");
    } else if (key == "incremental_output") {
      if (val.get_bool().get(r.incremental_output)) return bad("Invalid input incremental_output.");
    } else if (key == "chat_id") {
      if (val.get_string().get(s)) return bad("Invalid input chat_id.");
      r.chat_id.assign(s);
    } else if (key == "chat_mode") {
      if (val.get_string().get(s)) return bad("Invalid input chat_mode.");
      r.chat_mode.assign(s);
    } else if (key == "model") {
      if (val.get_string().get(s)) return bad("Invalid input model.");
      r.model.assign(s);
    } else if (key == "parent_id") {
      if (!get_nullable_string(val, &top_parent)) return bad("Invalid input parent_id.");
      have_top_parent = true;
    } else if (key == "messages") {
      od::array arr;
      if (val.get_array().get(arr)) return bad("Invalid input messages.");
      have_messages = true;
      for (auto item : arr) {
        od::value mv;
        if (item.get(mv)) return bad(std::string(kInvalidJson));
        if (r.message_count == 0) {
          if (auto st = parse_message(mv, &r, &parents); !st.ok()) return st;
        }
        ++r.message_count;
      }
    }
  }
  if (!json_at_end(doc)) return bad(std::string(kInvalidJson));
  if (!have_messages || r.message_count == 0) return bad("Invalid input messages is empty.");
  if (r.model.empty()) return bad("Invalid input model is empty.");
  if (have_top_parent) {
    r.parent_id = std::move(top_parent);
  } else if (parents.have_snake) {
    r.parent_id = std::move(parents.snake);
  } else if (parents.have_camel) {
    r.parent_id = std::move(parents.camel);
  }
  if (r.parent_id && r.parent_id->empty()) r.parent_id.reset();
  return r;
}

qp::Result<NewChatRequest> parse_new_chat_request(std::string_view body) {
  NewChatRequest r;
  qp::Status parsed = for_each_field(body, [&](std::string_view key, od::value val) -> qp::Status {
    std::string_view s;
    if (key == "title") {
      if (!val.get_string().get(s)) r.title.assign(s);
    } else if (key == "models") {
      od::array arr;
      if (val.get_array().get(arr)) return bad("Invalid input models.");
      for (auto m : arr) {
        if (m.get_string().get(s)) return bad("Invalid input models.");
        if (r.model.empty()) r.model.assign(s);
      }
    } else if (key == "chat_mode") {
      if (val.get_string().get(s)) return bad("Invalid input chat_mode.");
      r.chat_mode.assign(s);
    } else if (key == "chat_type") {
      if (!val.get_string().get(s) && !s.empty()) r.chat_type.assign(s);
    }
    return qp::Status();
  });
  if (!parsed.ok()) return parsed;
  return r;
}

qp::Result<SigninRequest> parse_signin_request(std::string_view body) {
  SigninRequest r;
  qp::Status parsed = for_each_field(body, [&](std::string_view key, od::value val) -> qp::Status {
    std::string_view s;
    if (key == "email") {
      if (val.get_string().get(s)) return bad("email must be a string");
      r.email.assign(s);
    } else if (key == "password") {
      if (val.get_string().get(s)) return bad("password must be a string");
      r.password.assign(s);
    }
    return qp::Status();
  });
  if (!parsed.ok()) return parsed;
  return r;
}

qp::Result<std::string> parse_chat_id_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::string();
  std::string id;
  qp::Status parsed = for_each_field(body, [&](std::string_view key, od::value val) -> qp::Status {
    std::string_view s;
    if (key == "chat_id" && !val.get_string().get(s)) id.assign(s);
    return qp::Status();
  });
  if (!parsed.ok()) return parsed;
  return id;
}

qp::Result<StsRequest> parse_sts_request(std::string_view body) {
  StsRequest r;
  qp::Status parsed = for_each_field(body, [&](std::string_view key, od::value val) -> qp::Status {
    std::string_view s;
    if (key == "filename") {
      if (val.get_string().get(s)) return bad("filename must be a string");
      r.filename.assign(s);
    } else if (key == "filesize") {
      if (val.get_int64().get(r.filesize)) return bad("filesize must be an integer");
    } else if (key == "filetype") {
      if (val.get_string().get(s)) return bad("filetype must be a string");
      r.filetype.assign(s);
    }
    return qp::Status();
  });
  if (!parsed.ok()) return parsed;
  if (r.filename.empty()) return bad("filename is required");
  return r;
}

qp::Result<TokenRequest> parse_token_request(std::string_view body) {
  TokenRequest r;
  qp::Status parsed = for_each_field(body, [&](std::string_view key, od::value val) -> qp::Status {
    std::string_view s;
    if (key == "user") {
      if (val.get_string().get(s)) return bad("user must be a string");
      r.user.assign(s);
    } else if (key == "ttl_s") {
      if (val.get_int64().get(r.ttl_s)) return bad("ttl_s must be an integer");
    } else {
      return bad("unknown key \"" + std::string(key) + "\"");
    }
    return qp::Status();
  });
  if (!parsed.ok()) return parsed;
  if (r.user.empty()) return bad("user is required");
  return r;
}

}  // namespace qp::mock

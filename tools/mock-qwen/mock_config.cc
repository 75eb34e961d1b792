#include "tools/mock-qwen/mock_config.h"

#include <vector>

#include <simdjson.h>

#include "common/json/writer.h"
#include "tools/mock-qwen/json_util.h"

namespace qp::mock {
namespace {

namespace od = simdjson::ondemand;

qp::Status bad(std::string msg) { return qp::Status(qp::Code::kInvalidArgument, std::move(msg)); }

qp::Status parse_fault(od::value v, Fault* f) {
  od::object obj;
  if (v.get_object().get(obj)) return bad("fault must be an object");
  bool have_kind = false;
  std::string scope = "all";
  int64_t count = -1;
  for (auto field : obj) {
    std::string_view key, s;
    if (field.unescaped_key().get(key)) return bad("fault: bad key");
    od::value val;
    if (field.value().get(val)) return bad("fault: bad value");
    if (key == "kind") {
      if (val.get_string().get(s)) return bad("fault.kind must be a string");
      auto k = fault_kind_from_name(s);
      if (!k) return bad("fault.kind: unknown kind \"" + std::string(s) + "\"");
      f->kind = *k;
      have_kind = true;
    } else if (key == "endpoint") {
      if (val.get_string().get(s)) return bad("fault.endpoint must be a string");
      auto ep = fault_endpoint_from_name(s);
      if (!ep)
        return bad(
            "fault.endpoint must be completions, chats_new, any, files_parse or "
            "files_parse_status");
      f->endpoint = *ep;
    } else if (key == "scope") {
      if (val.get_string().get(s)) return bad("fault.scope must be a string");
      scope.assign(s);
      if (scope != "all" && scope != "next" && scope != "user") {
        return bad("fault.scope must be all, next or user");
      }
    } else if (key == "user") {
      if (val.get_string().get(s)) return bad("fault.user must be a string");
      f->user.assign(s);
    } else if (key == "count") {
      if (val.get_int64().get(count) || count < 1) return bad("fault.count must be >= 1");
    } else if (key == "num") {
      if (val.get_int64().get(f->num)) return bad("fault.num must be an integer");
    } else if (key == "after") {
      if (val.get_int64().get(f->after) || f->after < 0) return bad("fault.after must be >= 0");
    } else if (key == "delay_ms") {
      if (val.get_int64().get(f->delay_ms) || f->delay_ms < 0) {
        return bad("fault.delay_ms must be >= 0");
      }
    } else {
      return bad("fault: unknown key \"" + std::string(key) + "\"");
    }
  }
  if (!have_kind) return bad("fault.kind is required");
  if (scope == "user" && f->user.empty()) return bad("fault.scope user needs fault.user");
  if (scope == "next" && count < 0) count = 1;
  f->remaining = count;
  return qp::Status();
}

qp::Status parse_fault_array(od::value v, std::vector<Fault>* out) {
  od::array arr;
  if (v.get_array().get(arr)) return bad("faults must be an array");
  for (auto item : arr) {
    od::value fv;
    if (item.get(fv)) return bad("faults: invalid JSON");
    Fault f;
    if (auto st = parse_fault(fv, &f); !st.ok()) return st;
    out->push_back(std::move(f));
  }
  return qp::Status();
}

qp::Status get_int(od::value v, std::string_view key, int64_t min, int64_t* out) {
  int64_t n = 0;
  if (v.get_int64().get(n) || n < min) {
    return bad(std::string(key) + " must be an integer >= " + std::to_string(min));
  }
  *out = n;
  return qp::Status();
}

qp::Status get_bool(od::value v, std::string_view key, bool* out) {
  if (v.get_bool().get(*out)) return bad(std::string(key) + " must be a boolean");
  return qp::Status();
}

}  // namespace

qp::Status apply_config_json(std::string_view json, MockConfig* config, FaultSet* faults) {
  MockConfig c = *config;
  bool replace_faults = false;
  bool clear_faults = false;
  std::vector<Fault> replacement, additions;

  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) {
    return bad("config must be a JSON object");
  }
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad("config: bad key");
    od::value v;
    if (field.value().get(v)) return bad("config: invalid JSON");
    qp::Status st;
    if (key == "token_delay_ms")
      st = get_int(v, key, 0, &c.token_delay_ms);
    else if (key == "first_token_delay_ms")
      st = get_int(v, key, 0, &c.first_token_delay_ms);
    else if (key == "chats_new_delay_ms")
      st = get_int(v, key, 0, &c.chats_new_delay_ms);
    else if (key == "emit_done")
      st = get_bool(v, key, &c.emit_done);
    else if (key == "variant_2026")
      st = get_bool(v, key, &c.variant_2026);
    else if (key == "keepalive_ms")
      st = get_int(v, key, 0, &c.keepalive_ms);
    else if (key == "chunk_bytes")
      st = get_int(v, key, 0, &c.chunk_bytes);
    else if (key == "strict_guest")
      st = get_bool(v, key, &c.strict_guest);
    else if (key == "user_quota")
      st = get_int(v, key, -1, &c.user_quota);
    else if (key == "guest_quota")
      st = get_int(v, key, -1, &c.guest_quota);
    else if (key == "quota_num")
      st = get_int(v, key, 0, &c.quota_num);
    else if (key == "max_records")
      st = get_int(v, key, 0, &c.max_records);
    else if (key == "echo_max_bytes")
      st = get_int(v, key, 0, &c.echo_max_bytes);
    else if (key == "backpressure_bytes")
      st = get_int(v, key, 1, &c.backpressure_bytes);
    else if (key == "search_delay_ms")
      st = get_int(v, key, 0, &c.search_delay_ms);
    else if (key == "research_delay_ms")
      st = get_int(v, key, 0, &c.research_delay_ms);
    else if (key == "image_delay_ms")
      st = get_int(v, key, 0, &c.image_delay_ms);
    else if (key == "video_duration_ms")
      st = get_int(v, key, 0, &c.video_duration_ms);
    else if (key == "research_rounds") {
      st = get_int(v, key, 1, &c.research_rounds);
      if (st.ok() && c.research_rounds > 8) st = bad("research_rounds must be 1 to 8");
    } else if (key == "research_clarify")
      st = get_bool(v, key, &c.research_clarify);
    else if (key == "sts_wrapped")
      st = get_bool(v, key, &c.sts_wrapped);
    else if (key == "oss_fail_puts")
      st = get_int(v, key, 0, &c.oss_fail_puts);
    else if (key == "max_message_bytes")
      st = get_int(v, key, 0, &c.max_message_bytes);
    else if (key == "parse_polls")
      st = get_int(v, key, -1, &c.parse_polls);
    else if (key == "require_parse")
      st = get_bool(v, key, &c.require_parse);
    else if (key == "search_format") {
      std::string_view s;
      if (v.get_string().get(s) || (s != "function_call" && s != "web_search_info"))
        st = bad("search_format must be \"function_call\" or \"web_search_info\"");
      else
        c.search_format.assign(s);
    } else if (key == "faults") {
      replace_faults = true;
      st = parse_fault_array(v, &replacement);
    } else if (key == "add_faults") {
      st = parse_fault_array(v, &additions);
    } else if (key == "clear_faults") {
      st = get_bool(v, key, &clear_faults);
    } else {
      return bad("config: unknown key \"" + std::string(key) + "\"");
    }
    if (!st.ok()) return st;
  }
  if (!json_at_end(doc)) return bad("config: trailing content");

  *config = c;
  if (clear_faults || replace_faults) faults->clear();
  for (auto& f : replacement) faults->add(std::move(f));
  for (auto& f : additions) faults->add(std::move(f));
  return qp::Status();
}

void append_config_json(std::string* out, const MockConfig& c) {
  json::Writer w(out);
  w.begin_object();
  w.field("token_delay_ms", c.token_delay_ms);
  w.field("first_token_delay_ms", c.first_token_delay_ms);
  w.field("chats_new_delay_ms", c.chats_new_delay_ms);
  w.field("emit_done", c.emit_done);
  w.field("variant_2026", c.variant_2026);
  w.field("keepalive_ms", c.keepalive_ms);
  w.field("chunk_bytes", c.chunk_bytes);
  w.field("strict_guest", c.strict_guest);
  w.field("user_quota", c.user_quota);
  w.field("guest_quota", c.guest_quota);
  w.field("quota_num", c.quota_num);
  w.field("max_records", c.max_records);
  w.field("echo_max_bytes", c.echo_max_bytes);
  w.field("backpressure_bytes", c.backpressure_bytes);
  w.field("search_format", c.search_format);
  w.field("search_delay_ms", c.search_delay_ms);
  w.field("research_delay_ms", c.research_delay_ms);
  w.field("image_delay_ms", c.image_delay_ms);
  w.field("video_duration_ms", c.video_duration_ms);
  w.field("research_rounds", c.research_rounds);
  w.field("research_clarify", c.research_clarify);
  w.field("sts_wrapped", c.sts_wrapped);
  w.field("oss_fail_puts", c.oss_fail_puts);
  w.field("max_message_bytes", c.max_message_bytes);
  w.field("parse_polls", c.parse_polls);
  w.field("require_parse", c.require_parse);
  w.end_object();
}

}  // namespace qp::mock

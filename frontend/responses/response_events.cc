#include "frontend/responses/response_events.h"

#include "common/json/json_output.h"
#include "common/json/writer.h"

namespace qp::frontend::responses {
namespace {

const char* response_error_code(const ApiError& e) {
  return e.code == Code::kRateLimited ? "rate_limit_exceeded" : "server_error";
}

// finish_reason -> incomplete_details.reason; nullptr: the response completed.
const char* incomplete_reason(std::string_view finish_reason) {
  if (finish_reason == "length") return "max_output_tokens";
  if (finish_reason == "content_filter") return "content_filter";
  return nullptr;
}

}  // namespace

ResponseEcho ResponseEcho::of(const ResponsesRequest& r, std::string id, int64_t created_at,
                              int64_t input_tokens) {
  ResponseEcho e;
  e.id = std::move(id);
  e.model = r.job.model;
  e.created_at = created_at;
  e.instructions = r.instructions;
  e.previous_response_id = r.previous_response_id;
  e.tools = r.tools_echo;
  e.tool_choice = r.tool_choice_echo;
  e.text_format = r.text_format;
  e.metadata = r.metadata;
  e.reasoning_effort = r.reasoning_effort;
  e.reasoning_summary = r.reasoning_summary;
  e.user = r.job.user;
  e.parallel_tool_calls = r.job.parallel_tool_calls;
  e.store = r.store;
  e.thinking = r.thinking;
  e.unfenced_json = r.want_json && !r.job.stream;
  e.temperature = r.job.temperature;
  e.top_p = r.job.top_p;
  e.max_output_tokens = r.job.max_tokens;
  e.input_tokens = input_tokens;
  e.namespaces = r.namespaces;
  return e;
}

ResponseEvents::ResponseEvents(ResponseEcho echo) : echo_(std::move(echo)) {}

std::string ResponseEvents::item_id(const char* prefix) const {
  std::string_view base = echo_.id;
  if (base.rfind("resp_", 0) == 0) base.remove_prefix(5);
  return std::string(prefix) + std::string(base) + "_" + std::to_string(items_.size());
}

std::string_view ResponseEvents::namespace_of_(std::string_view name) const {
  for (const auto& [fn, ns] : echo_.namespaces) {
    if (fn == name) return ns;
  }
  return {};
}

void ResponseEvents::event(std::string* out, std::string_view type) {
  out->append("event: ").append(type).append("\ndata: {\"type\":\"").append(type);
  out->append("\",\"sequence_number\":").append(std::to_string(seq_++));
}

void ResponseEvents::write_item(std::string* out, const Item& item, bool done) const {
  json::Writer w(out);
  w.begin_object().field("id", item.id);
  const char* status = done ? "completed" : "in_progress";
  if (item.kind == Kind::kReasoning) {
    w.field("type", "reasoning").key("summary").begin_array();
    if (done) w.begin_object().field("type", "summary_text").field("text", item.text).end_object();
    w.end_array().field("status", status);
  } else if (item.kind == Kind::kMessage) {
    w.field("type", "message").field("status", status).field("role", "assistant");
    w.key("content").begin_array();
    if (done) {
      w.begin_object().field("type", "output_text").field("text", item.text);
      w.key("annotations").begin_array().end_array();
      w.key("logprobs").begin_array().end_array().end_object();
    }
    w.end_array();
  } else {
    w.field("type", "function_call").field("status", status).field("call_id", item.call_id);
    w.field("name", item.name).field("arguments", done ? std::string_view(item.text) : "");
    if (!item.ns.empty()) w.field("namespace", item.ns);
  }
  w.end_object();
}

void ResponseEvents::write_response(std::string* out, std::string_view status,
                                    const protocol::JobDone* done, const ApiError* error) const {
  json::Writer w(out);
  w.begin_object().field("id", echo_.id).field("object", "response");
  w.field("created_at", echo_.created_at).field("status", status);
  const char* incomplete = done != nullptr ? incomplete_reason(done->finish_reason) : nullptr;
  if (status == "completed" || status == "incomplete")
    w.field("completed_at", completed_at_ > 0 ? completed_at_ : echo_.created_at);
  else
    w.field_null("completed_at");
  if (error != nullptr) {
    w.key("error").begin_object().field("code", response_error_code(*error));
    w.field("message", error->message).end_object();
  } else {
    w.field_null("error");
  }
  if (incomplete != nullptr)
    w.key("incomplete_details").begin_object().field("reason", incomplete).end_object();
  else
    w.field_null("incomplete_details");
  if (echo_.instructions.empty())
    w.field_null("instructions");
  else
    w.field("instructions", echo_.instructions);
  if (echo_.max_output_tokens > 0)
    w.field("max_output_tokens", echo_.max_output_tokens);
  else
    w.field_null("max_output_tokens");
  w.field("model", echo_.model).key("output").begin_array();
  if (done != nullptr || error != nullptr) {
    for (size_t i = 0; i < items_.size(); ++i) {
      if (i > 0) out->push_back(',');
      write_item(out, items_[i], true);
    }
  }
  w.end_array();
  w.field("parallel_tool_calls", echo_.parallel_tool_calls);
  if (echo_.previous_response_id.empty())
    w.field_null("previous_response_id");
  else
    w.field("previous_response_id", echo_.previous_response_id);
  w.key("reasoning").begin_object();
  if (echo_.reasoning_effort.empty())
    w.field_null("effort");
  else
    w.field("effort", echo_.reasoning_effort);
  if (echo_.reasoning_summary.empty())
    w.field_null("summary");
  else
    w.field("summary", echo_.reasoning_summary);
  w.end_object();
  w.field("store", echo_.store);
  w.field("temperature", echo_.temperature >= 0 ? echo_.temperature : 1.0);
  w.key("text").begin_object();
  if (echo_.text_format.empty())
    w.key("format").begin_object().field("type", "text").end_object();
  else
    w.field_raw("format", echo_.text_format);
  w.end_object();
  w.field_raw("tool_choice", echo_.tool_choice.empty() ? std::string_view("\"auto\"")
                                                       : std::string_view(echo_.tool_choice));
  w.field_raw("tools",
              echo_.tools.empty() ? std::string_view("[]") : std::string_view(echo_.tools));
  w.field("top_p", echo_.top_p >= 0 ? echo_.top_p : 1.0);
  w.field("truncation", "disabled");
  if (done != nullptr) {
    int64_t input = done->has_usage && done->usage.prompt_tokens > 0 ? done->usage.prompt_tokens
                                                                     : echo_.input_tokens;
    int64_t output = done->usage.completion_tokens;
    w.key("usage").begin_object().field("input_tokens", input);
    w.key("input_tokens_details").begin_object().field("cached_tokens", 0);
    w.field("cache_write_tokens", 0).end_object();
    w.field("output_tokens", output);
    w.key("output_tokens_details")
        .begin_object()
        .field("reasoning_tokens", done->usage.reasoning_tokens)
        .end_object();
    w.field("total_tokens", input + output).end_object();
  }
  if (!echo_.user.empty()) w.field("user", echo_.user);
  w.field_raw("metadata",
              echo_.metadata.empty() ? std::string_view("{}") : std::string_view(echo_.metadata));
  w.end_object();
}

void ResponseEvents::append_start(std::string* out) {
  for (const char* type : {"response.created", "response.in_progress"}) {
    event(out, type);
    out->append(",\"response\":");
    write_response(out, "in_progress", nullptr, nullptr);
    end_event(out);
  }
}

ResponseEvents::Item& ResponseEvents::start_item(Kind kind, const protocol::ToolCallDelta* call) {
  const char* prefix = kind == Kind::kReasoning ? "rs_" : kind == Kind::kMessage ? "msg_" : "fc_";
  Item item{kind, item_id(prefix), {}, {}, {}, {}, -1};
  if (call != nullptr) {
    item.call_id = call->id;
    item.name = call->name;
    item.tool_index = call->index;
  }
  items_.push_back(std::move(item));
  return items_.back();
}

void ResponseEvents::open(std::string* out, Kind kind, const protocol::ToolCallDelta* call) {
  close(out);
  Item& item = start_item(kind, call);
  if (call != nullptr) item.ns = std::string(namespace_of_(call->name));
  open_ = kind;
  std::string index = std::to_string(items_.size() - 1);
  event(out, "response.output_item.added");
  out->append(",\"output_index\":").append(index).append(",\"item\":");
  write_item(out, item, false);
  end_event(out);
  if (kind == Kind::kReasoning) {
    event(out, "response.reasoning_summary_part.added");
    out->append(",\"item_id\":");
    json::append_quoted(out, item.id);
    out->append(",\"output_index\":").append(index);
    out->append(",\"summary_index\":0,\"part\":{\"type\":\"summary_text\",\"text\":\"\"}");
    end_event(out);
  } else if (kind == Kind::kMessage) {
    event(out, "response.content_part.added");
    out->append(",\"item_id\":");
    json::append_quoted(out, item.id);
    out->append(",\"output_index\":").append(index);
    out->append(
        ",\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\","
        "\"annotations\":[],\"logprobs\":[]}");
    end_event(out);
  }
}

void ResponseEvents::close(std::string* out) {
  if (open_ == Kind::kNone) return;
  const Item& item = items_.back();
  std::string index = std::to_string(items_.size() - 1);
  auto head = [&](std::string_view type) {
    event(out, type);
    out->append(",\"item_id\":");
    json::append_quoted(out, item.id);
    out->append(",\"output_index\":").append(index);
  };
  if (open_ == Kind::kReasoning) {
    head("response.reasoning_summary_text.done");
    out->append(",\"summary_index\":0,\"text\":");
    json::append_quoted(out, item.text);
    end_event(out);
    head("response.reasoning_summary_part.done");
    out->append(",\"summary_index\":0,\"part\":{\"type\":\"summary_text\",\"text\":");
    json::append_quoted(out, item.text);
    out->push_back('}');
    end_event(out);
  } else if (open_ == Kind::kMessage) {
    head("response.output_text.done");
    out->append(",\"content_index\":0,\"text\":");
    json::append_quoted(out, item.text);
    out->append(",\"logprobs\":[]");
    end_event(out);
    head("response.content_part.done");
    out->append(",\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":");
    json::append_quoted(out, item.text);
    out->append(",\"annotations\":[],\"logprobs\":[]}");
    end_event(out);
  } else {
    head("response.function_call_arguments.done");
    out->append(",\"name\":");
    json::append_quoted(out, item.name);
    out->append(",\"arguments\":");
    json::append_quoted(out, item.text);
    end_event(out);
  }
  event(out, "response.output_item.done");
  out->append(",\"output_index\":").append(index).append(",\"item\":");
  write_item(out, item, true);
  end_event(out);
  open_ = Kind::kNone;
}

void ResponseEvents::append_chunk(std::string* out, const protocol::JobChunk& chunk) {
  auto delta = [&](std::string_view type, std::string_view text, const char* extra) {
    const Item& item = items_.back();
    event(out, type);
    out->append(",\"item_id\":");
    json::append_quoted(out, item.id);
    out->append(",\"output_index\":").append(std::to_string(items_.size() - 1));
    out->append(extra).append(",\"delta\":");
    json::append_quoted(out, text);
    end_event(out);
  };
  if (echo_.thinking && !chunk.reasoning.empty()) {
    if (open_ != Kind::kReasoning) open(out, Kind::kReasoning, nullptr);
    items_.back().text.append(chunk.reasoning);
    delta("response.reasoning_summary_text.delta", chunk.reasoning, ",\"summary_index\":0");
  }
  if (!chunk.content.empty()) {
    if (open_ != Kind::kMessage) open(out, Kind::kMessage, nullptr);
    items_.back().text.append(chunk.content);
    delta("response.output_text.delta", chunk.content, ",\"content_index\":0,\"logprobs\":[]");
  }
  for (const auto& d : chunk.tool_calls) {
    if (!d.id.empty()) {
      open(out, Kind::kCall, &d);
    } else if (open_ != Kind::kCall || d.index != items_.back().tool_index) {
      continue;  // a fragment of a call that is not the open one (the worker sends none)
    }
    if (d.arguments.empty()) continue;
    items_.back().text.append(d.arguments);
    delta("response.function_call_arguments.delta", d.arguments, "");
  }
}

void ResponseEvents::append_done(std::string* out, const protocol::JobDone& done) {
  close(out);
  bool incomplete = incomplete_reason(done.finish_reason) != nullptr;
  event(out, incomplete ? "response.incomplete" : "response.completed");
  out->append(",\"response\":");
  write_response(out, incomplete ? "incomplete" : "completed", &done, nullptr);
  end_event(out);
}

void ResponseEvents::append_failed(std::string* out, const ApiError& e) {
  close(out);
  event(out, "error");
  out->push_back(',');
  json::Writer w(out);
  w.key("code").value(e.error_code.empty() ? std::string_view(error_type(e))
                                           : std::string_view(e.error_code));
  w.field("message", e.message);
  if (e.param.empty())
    w.field_null("param");
  else
    w.field("param", e.param);
  end_event(out);
  event(out, "response.failed");
  out->append(",\"response\":");
  write_response(out, "failed", nullptr, &e);
  end_event(out);
}

void ResponseEvents::add(const protocol::JobChunk& chunk) {
  auto last = [&](Kind k) -> Item& {
    if (items_.empty() || items_.back().kind != k) start_item(k, nullptr);
    return items_.back();
  };
  if (echo_.thinking && !chunk.reasoning.empty())
    last(Kind::kReasoning).text.append(chunk.reasoning);
  if (!chunk.content.empty()) last(Kind::kMessage).text.append(chunk.content);
  for (const auto& d : chunk.tool_calls) {
    if (!d.id.empty()) {
      Item& item = start_item(Kind::kCall, &d);
      item.ns = std::string(namespace_of_(d.name));
    }
    for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
      if (it->kind == Kind::kCall && it->tool_index == d.index) {
        it->text.append(d.arguments);
        break;
      }
    }
  }
}

void ResponseEvents::end_answer() {
  if (!echo_.unfenced_json) return;
  Item* message = nullptr;
  for (Item& item : items_) {
    if (item.kind != Kind::kMessage) continue;
    if (message != nullptr) return;  // text around calls: not one JSON answer
    message = &item;
  }
  if (message == nullptr) return;
  std::string_view returned = json::returned_json_answer(message->text);
  if (returned.size() != message->text.size()) message->text = std::string(returned);
}

std::string ResponseEvents::response_json(const protocol::JobDone& done) const {
  std::string out;
  size_t size = 1024 + echo_.tools.size() + echo_.instructions.size();
  for (const auto& item : items_) size += item.text.size() + 128;
  out.reserve(size);
  write_response(&out, incomplete_reason(done.finish_reason) ? "incomplete" : "completed", &done,
                 nullptr);
  return out;
}

std::string ResponseEvents::output_items() const {
  std::string out;
  json::Writer w(&out);
  w.begin_array();
  for (const auto& item : items_) {
    if (item.kind == Kind::kMessage) {
      w.begin_object().field("type", "message").field("role", "assistant");
      w.field("content", item.text).end_object();
    } else if (item.kind == Kind::kCall) {
      w.begin_object().field("type", "function_call").field("call_id", item.call_id);
      w.field("name", item.name).field("arguments", item.text);
      if (!item.ns.empty()) w.field("namespace", item.ns);
      w.end_object();
    }
  }
  w.end_array();
  return out;
}

}  // namespace qp::frontend::responses

// MessagePack codec. Each struct lists its fields once in a visit() function;
// the same list drives encoding (a map keyed by field name) and decoding
// (keys matched by name, unknown keys skipped, wrong types rejected).
#include "common/protocol/codec.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <msgpack.hpp>

#include "common/protocol/wire.h"

namespace qp::protocol {
namespace {

struct StringBuffer {
  std::string* s;
  void write(const char* p, size_t n) { s->append(p, n); }
};
using Packer = msgpack::packer<StringBuffer>;

// ---- field lists --------------------------------------------------------

template <class V>
void visit(Attachment& m, V& v) {
  v("kind", m.kind);
  v.optional("mime", m.mime);
  v.optional("name", m.name);
  v.optional("url", m.url);
  v.optional("bytes", m.bytes);
  v.optional("digest", m.digest);
  v.optional("width", m.width);
  v.optional("height", m.height);
}
template <class V>
void visit(ChatMessage& m, V& v) {
  v("role", m.role);
  v("content", m.content);
  v("name", m.name);
  v("tool_call_id", m.tool_call_id);
  v("tool_calls", m.tool_calls);
  v("attachments", m.attachments);  // an empty array is left out
}
template <class V>
void visit(HistoryInfo& m, V& v) {
  v("key", m.key);
  v("new_from", m.new_from);
  v("state", m.state);
  v("system_hash", m.system_hash);
  v("tools_hash", m.tools_hash);
}

template <class V>
void visit(Continuation& m, V& v) {
  v("chat_id", m.chat_id);
  v("parent_id", m.parent_id);
  v("system_hash", m.system_hash);
  v("tools_hash", m.tools_hash);
}

template <class V>
void visit(JobFeatures& m, V& v) {
  v("search", m.search);
  v("thinking", m.thinking);
  v("thinking_budget", m.thinking_budget);
  v("auto_search", m.auto_search);
}
template <class V>
void visit(SearchSource& m, V& v) {
  v("url", m.url);
  v("title", m.title);
}

template <class V>
void visit(JobMedia& m, V& v) {
  v.optional("size", m.size);
  v.optional("n", m.n);
  v.optional("response_format", m.response_format);
}
template <class V>
void visit(MediaItem& m, V& v) {
  v("kind", m.kind);
  v("url", m.url);
  v.optional("b64_json", m.b64_json);
  v.optional("mime", m.mime);
}

template <class V>
void visit(JobRequest& m, V& v) {
  v("request_id", m.request_id);
  v("kind", m.kind);
  v("model", m.model);
  v("messages", m.messages);
  v("stream", m.stream);
  v("max_tokens", m.max_tokens);
  v("temperature", m.temperature);
  v("top_p", m.top_p);
  v("stop", m.stop);
  v("user", m.user);
  v("tools", m.tools);
  v("tool_choice", m.tool_choice);
  v("parallel_tool_calls", m.parallel_tool_calls);
  v("response_format", m.response_format);
  v("chat_id", m.chat_id);
  v("history", m.history);
  v("created_unix_ms", m.created_unix_ms);
  v("deadline_unix_ms", m.deadline_unix_ms);
  v.optional("pin_account", m.pin_account);
  v.optional("features", m.features);
  v.optional("media", m.media);
}
template <class V>
void visit(JobRoute& m, V& v) {
  v("kind", m.kind);
  v("model", m.model);
  v.optional("history_key", m.history_key);
  v.optional("chat_id", m.chat_id);
  v.optional("pin_account", m.pin_account);
}
template <class V>
void visit(SessionUpdate& m, V& v) {
  v("session_key", m.session_key);
  v("chat_id", m.chat_id);
  v("parent_id", m.parent_id);
  v("account", m.account);
  v("model", m.model);
  v("system_hash", m.system_hash);
  v("tools_hash", m.tools_hash);
}
template <class V>
void visit(Usage& m, V& v) {
  v("prompt_tokens", m.prompt_tokens);
  v("completion_tokens", m.completion_tokens);
  v("total_tokens", m.total_tokens);
  v.optional("reasoning_tokens", m.reasoning_tokens);
}
template <class V>
void visit(ToolCallDelta& m, V& v) {
  v("index", m.index);
  v("id", m.id);
  v("name", m.name);
  v("arguments", m.arguments);
}
template <class V>
void visit(JobChunk& m, V& v) {
  // No "request_id" (messages.h): an older worker's key is skipped as unknown.
  v("content", m.content);
  v("reasoning", m.reasoning);
  v("tool_calls", m.tool_calls);
  v.optional("account", m.account);
}
template <class V>
void visit(JobDone& m, V& v) {
  v("request_id", m.request_id);
  v("finish_reason", m.finish_reason);
  v("has_usage", m.has_usage);
  v("usage", m.usage);
  v("chat_id", m.chat_id);
  v("account", m.account);
  v("stop_sequence", m.stop_sequence);
  v("sources", m.sources);
  v("media", m.media);
}
template <class V>
void visit(JobError& m, V& v) {
  v("request_id", m.request_id);
  v("code", m.code);
  v("message", m.message);
  v("retry_after_s", m.retry_after_s);
  v("account_health", m.account_health);
  v("health_until_unix_ms", m.health_until_unix_ms);
  v("error_code", m.error_code);
}
template <class V>
void visit(Cancel& m, V& v) {
  v("request_id", m.request_id);
  v("reason", m.reason);
}
template <class V>
void visit(MetricSample& m, V& v) {
  v("suffix", m.suffix);
  v("labels", m.labels);
  v("value", m.value);
}
template <class V>
void visit(MetricFamily& m, V& v) {
  v("name", m.name);
  v("type", m.type);
  v("help", m.help);
  v("samples", m.samples);
}
template <class V>
void visit(WorkerStatus& m, V& v) {
  v("account", m.account);
  v("instance", m.instance);
  v("capacity", m.capacity);
  v("in_flight", m.in_flight);
  v("health", m.health);
  v("health_until_unix_ms", m.health_until_unix_ms);
  v("token_expires_unix_s", m.token_expires_unix_s);
  v("detail", m.detail);
  v("pid", m.pid);
  v("started_unix_ms", m.started_unix_ms);
  v("metrics", m.metrics);
}
template <class V>
void visit(PeerHello& m, V& v) {
  v("instance", m.instance);
  v("role", m.role);
}
template <class V>
void visit(AccountSummary& m, V& v) {
  v("account", m.account);
  v("health", m.health);
  v("capacity", m.capacity);
  v("in_flight", m.in_flight);
  v("token_expires_unix_s", m.token_expires_unix_s);
  v("detail", m.detail);
  v("draining", m.draining);
  v("pid", m.pid);
  v("started_unix_ms", m.started_unix_ms);
  v("restarts", m.restarts);
  v("health_until_unix_ms", m.health_until_unix_ms);
}
template <class V>
void visit(AdminCommand& m, V& v) {
  v("action", m.action);
  v("account", m.account);
}
template <class V>
void visit(BrokerStatus& m, V& v) {
  v("instance", m.instance);
  v("workers", m.workers);
  v("queued", m.queued);
  v("accounts", m.accounts);
  v("metrics", m.metrics);
}
template <class V>
void visit(ModelInfo& m, V& v) {
  v("id", m.id);
  v("name", m.name);
  v("owned_by", m.owned_by);
  v("created", m.created);
  v("context_length", m.context_length);
  v("max_output_tokens", m.max_output_tokens);
  v("capabilities", m.capabilities);
}
template <class V>
void visit(ModelList& m, V& v) {
  v("request_id", m.request_id);
  v("models", m.models);
}

template <class T, class = void>
struct IsStruct : std::false_type {};
struct NullVisitor {
  template <class F>
  void operator()(const char*, F&) {}
  template <class F>
  void optional(const char*, F&) {}
};
template <class T>
struct IsStruct<T, std::void_t<decltype(visit(std::declval<T&>(), std::declval<NullVisitor&>()))>>
    : std::true_type {};

// ---- encoding ------------------------------------------------------------

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};

// Empty arrays are left out of the encoding: the decoder's default for a
// missing key is the same empty vector, and per-chunk messages (JobChunk's
// tool_calls) stay as small as before the field existed.
template <class F>
bool omitted(const F& field) {
  if constexpr (IsVector<F>::value) {
    return field.empty();
  } else {
    return false;
  }
}

// v.optional(name, field): a string (or a struct with empty()) left out of
// the encoding when empty, an integer when 0 (fields most messages do not
// need, e.g. on the per-chunk hot path).
template <class F>
bool empty_optional(const F& field) {
  if constexpr (std::is_integral_v<F>) {
    return field == 0;
  } else {
    return field.empty();
  }
}

struct Counter {
  uint32_t n = 0;
  template <class F>
  void operator()(const char*, F& field) {
    if (!omitted(field)) ++n;
  }
  template <class F>
  void optional(const char*, F& field) {
    if (!empty_optional(field)) ++n;
  }
};

template <class T>
void pack_value(Packer& p, const T& v);

struct EncodeVisitor {
  Packer& p;
  template <class F>
  void operator()(const char* name, F& field) {
    if (omitted(field)) return;
    p.pack_str(static_cast<uint32_t>(std::strlen(name)));
    p.pack_str_body(name, static_cast<uint32_t>(std::strlen(name)));
    pack_value(p, field);
  }
  template <class F>
  void optional(const char* name, F& field) {
    if (!empty_optional(field)) (*this)(name, field);
  }
};

void pack_string(Packer& p, std::string_view s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

template <class T>
void pack_value(Packer& p, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    pack_string(p, v);
  } else if constexpr (std::is_same_v<T, Bytes>) {
    p.pack_bin(static_cast<uint32_t>(v.data.size()));
    p.pack_bin_body(v.data.data(), static_cast<uint32_t>(v.data.size()));
  } else if constexpr (std::is_same_v<T, bool>) {
    if (v)
      p.pack_true();
    else
      p.pack_false();
  } else if constexpr (std::is_same_v<T, Code>) {
    pack_string(p, code_name(v));
  } else if constexpr (std::is_enum_v<T>) {
    p.pack(static_cast<uint64_t>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    // msgpack-c packs an integral double as an integer, and its range check
    // lets 2^64 through to a uint64_t conversion (undefined behaviour; found
    // by fuzzing). Doubles that large go out as float64 bytes (0xcb) here.
    double d = static_cast<double>(v);
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      char buf[9];
      buf[0] = static_cast<char>(0xcb);
      for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
      p.pack_bin_body(buf, sizeof buf);  // a body writer appends bytes as they are
    } else {
      p.pack(v);
    }
  } else if constexpr (std::is_integral_v<T>) {
    p.pack(v);
  } else if constexpr (IsStruct<T>::value) {
    auto& m = const_cast<T&>(v);  // visit() takes non-const; encoding does not modify
    Counter c;
    visit(m, c);
    p.pack_map(c.n);
    EncodeVisitor e{p};
    visit(m, e);
  } else {  // std::vector<...>
    p.pack_array(static_cast<uint32_t>(v.size()));
    for (const auto& x : v) pack_value(p, x);
  }
}

template <class T>
void encode_struct(const T& m, std::string* out) {
  out->clear();
  StringBuffer buf{out};
  Packer p(buf);
  pack_value(p, m);
}

// ---- decoding ------------------------------------------------------------

template <class T>
Status unpack_value(const msgpack::object& o, T* out, const char* name);

Status type_error(const char* name, const char* want) {
  return error(Code::kProtocol, std::string("field '") + name + "' is not " + want);
}

struct DecodeVisitor {
  std::string_view key;
  const msgpack::object* val;
  Status status;
  bool matched = false;
  template <class F>
  void operator()(const char* name, F& field) {
    // Per CHUNK this runs for every key x field: the first byte rules out
    // most fields without the strlen of a full comparison.
    if (matched || !status.ok() || key.empty() || key[0] != name[0] || key != name) return;
    matched = true;
    status = unpack_value(*val, &field, name);
  }
  template <class F>
  void optional(const char* name, F& field) {
    (*this)(name, field);
  }
};

template <class T>
Status unpack_struct(const msgpack::object& o, T* out, const char* name) {
  if (o.type != msgpack::type::MAP) return type_error(name, "a map");
  const auto& map = o.via.map;
  for (uint32_t i = 0; i < map.size; ++i) {
    const auto& kv = map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return error(Code::kProtocol, "map key is not a string");
    DecodeVisitor d{std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), &kv.val, Status(),
                    false};
    visit(*out, d);
    if (!d.status.ok()) return d.status;
  }
  return Status();
}

template <class T>
Status unpack_value(const msgpack::object& o, T* out, const char* name) {
  using msgpack::type::object_type;
  if constexpr (std::is_same_v<T, std::string>) {
    if (o.type == object_type::STR)
      out->assign(o.via.str.ptr, o.via.str.size);
    else if (o.type == object_type::BIN)
      out->assign(o.via.bin.ptr, o.via.bin.size);
    else if (o.type == object_type::NIL)
      out->clear();
    else
      return type_error(name, "a string");
  } else if constexpr (std::is_same_v<T, Bytes>) {
    if (o.type == object_type::BIN)
      out->data.assign(o.via.bin.ptr, o.via.bin.size);
    else if (o.type == object_type::STR)
      out->data.assign(o.via.str.ptr, o.via.str.size);
    else
      return type_error(name, "bytes");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (o.type != object_type::BOOLEAN) return type_error(name, "a boolean");
    *out = o.via.boolean;
  } else if constexpr (std::is_same_v<T, Code>) {
    if (o.type != object_type::STR) return type_error(name, "a string");
    *out = code_from_name(std::string_view(o.via.str.ptr, o.via.str.size));
  } else if constexpr (std::is_enum_v<T> || std::is_integral_v<T>) {
    using U = std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>, std::type_identity<T>>;
    using I = typename U::type;
    if (o.type == object_type::POSITIVE_INTEGER) {
      if (o.via.u64 > static_cast<uint64_t>(std::numeric_limits<I>::max())) {
        return type_error(name, "in range");
      }
      *out = static_cast<T>(o.via.u64);
    } else if (o.type == object_type::NEGATIVE_INTEGER) {
      if constexpr (std::is_signed_v<I>) {
        if (o.via.i64 < static_cast<int64_t>(std::numeric_limits<I>::min())) {
          return type_error(name, "in range");
        }
        *out = static_cast<T>(o.via.i64);
      } else {
        return type_error(name, "non-negative");
      }
    } else {
      return type_error(name, "an integer");
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (o.type == object_type::FLOAT32 || o.type == object_type::FLOAT64)
      *out = static_cast<T>(o.via.f64);
    else if (o.type == object_type::POSITIVE_INTEGER)
      *out = static_cast<T>(o.via.u64);
    else if (o.type == object_type::NEGATIVE_INTEGER)
      *out = static_cast<T>(o.via.i64);
    else
      return type_error(name, "a number");
  } else if constexpr (IsStruct<T>::value) {
    return unpack_struct(o, out, name);
  } else {  // std::vector<...>
    if (o.type != object_type::ARRAY) return type_error(name, "an array");
    out->clear();
    out->resize(o.via.array.size);
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      Status s = unpack_value(o.via.array.ptr[i], &(*out)[i], name);
      if (!s.ok()) return s;
    }
  }
  return Status();
}

// Limits that keep a hostile peer from making us allocate without bound.
// msgpack-c allocates an array's or map's declared element count before it
// reads an element, so a few bytes declaring a million elements cost
// megabytes. Every element takes at least one byte of the body (a map pair
// two), so no honest body declares more elements than it has bytes: bounding
// the counts by the body's size rules the amplification out.
msgpack::unpack_limit decode_limits(size_t body_size) {
  size_t array = std::min<size_t>(1 << 20, body_size);
  size_t map = std::min<size_t>(1 << 16, body_size / 2);
  return msgpack::unpack_limit(array, map, /*str*/ 256u << 20, /*bin*/ 256u << 20,
                               /*ext*/ 1 << 10, /*depth*/ 16);
}

// Strings and binaries are read in place (the object tree points into the
// body, which outlives it): they are copied once, into the struct.
bool reference_in_place(msgpack::type::object_type, size_t, void*) { return true; }

template <class T>
Status decode_struct(std::string_view body, T* out) {
  if (body.empty()) return error(Code::kProtocol, "empty message body");
  // One zone per thread, cleared per message, instead of a new one (two
  // allocations) per decode: this runs for every chunk in the frontend.
  thread_local msgpack::zone zone;
  zone.clear();
  try {
    size_t offset = 0;
    msgpack::object obj = msgpack::unpack(zone, body.data(), body.size(), offset,
                                          &reference_in_place, nullptr, decode_limits(body.size()));
    if (offset != body.size()) return error(Code::kProtocol, "trailing bytes after message body");
    *out = T{};
    return unpack_struct(obj, out, "body");
  } catch (const msgpack::insufficient_bytes&) {
    return error(Code::kProtocol, "truncated message body");
  } catch (const std::exception& e) {
    return error(Code::kProtocol, std::string("malformed message body: ") + e.what());
  }
}

}  // namespace

#define QP_CODEC(T)                                                    \
  void encode(const T& m, std::string* out) { encode_struct(m, out); } \
  Status decode(std::string_view body, T* out) { return decode_struct(body, out); }

QP_CODEC(JobRequest)
QP_CODEC(JobChunk)
QP_CODEC(JobDone)
QP_CODEC(JobError)
QP_CODEC(Cancel)
QP_CODEC(WorkerStatus)
QP_CODEC(PeerHello)
QP_CODEC(BrokerStatus)
QP_CODEC(ModelList)
QP_CODEC(AdminCommand)
QP_CODEC(JobRoute)
QP_CODEC(Continuation)
QP_CODEC(SessionUpdate)
#undef QP_CODEC

std::string_view command_name(Command c) {
  switch (c) {
    case Command::kReady:
      return "READY";
    case Command::kHeartbeat:
      return "HEARTBEAT";
    case Command::kJob:
      return "JOB";
    case Command::kChunk:
      return "CHUNK";
    case Command::kDone:
      return "DONE";
    case Command::kError:
      return "ERROR";
    case Command::kCancel:
      return "CANCEL";
    case Command::kDisconnect:
      return "DISCONNECT";
    case Command::kModels:
      return "MODELS";
    case Command::kAdmin:
      return "ADMIN";
    case Command::kChunks:
      return "CHUNKS";
  }
  return "UNKNOWN";
}

}  // namespace qp::protocol

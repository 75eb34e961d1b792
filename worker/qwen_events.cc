#include "worker/qwen_events.h"

#include <cstring>
#include <utility>

#include "common/numeric.h"
#include "common/strings.h"

namespace qp::worker {
namespace {

using strings::trim;

namespace od = simdjson::ondemand;

// simdjson_result<T>::get() is &&-qualified, hence the std::move of
// iteration variables below (trivially copyable, so no real move happens).
// NOLINTBEGIN(performance-move-const-arg)

// What one event carries, as views into the parser (valid for this event).
struct EventFields {
  bool error_marker = false;
  bool created = false;
  std::string_view chat_id, parent_id, response_id;
  StreamUsage usage;
  bool has_delta = false;
  bool has_content = false;
  std::string_view role, content, phase, status, name;
  std::string_view research_goal;  // extra.deep_research.research.researchGoal
};

// Reads a string value if it is one; other types are left alone.
// Returns false on a JSON error.
bool opt_string(od::value v, std::string_view* out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t != od::json_type::string) return true;
  return !v.get_string().get(*out);
}

bool opt_int(od::value v, int64_t* out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t != od::json_type::number) return true;
  int64_t i = 0;
  if (!v.get_int64().get(i)) {
    *out = i;
    return true;
  }
  double d = 0;
  if (v.get_double().get(d)) return false;
  *out = saturate_to_int64(d);
  return true;
}

bool is_null(od::value v, bool* out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  *out = t == od::json_type::null;
  return true;
}

// One search source as views into the parser.
struct SourceView {
  std::string_view url, title;
};

// A search doc object {url, title, …}; other fields (snippet, date,
// hostname…) are not needed.
bool read_doc(od::value v, std::vector<SourceView>* out) {
  od::object doc;
  if (v.get_object().get(doc)) return true;  // not an object: skipped
  SourceView sv;
  for (auto fr : doc) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) || f.unescaped_key().get(k)) return false;
    bool ok = true;
    if (k == "url")
      ok = opt_string(f.value(), &sv.url);
    else if (k == "title")
      ok = opt_string(f.value(), &sv.title);
    if (!ok) return false;
  }
  if (!sv.url.empty()) out->push_back(sv);
  return true;
}

bool read_docs(od::value v, std::vector<SourceView>* out) {
  od::array arr;
  if (v.get_array().get(arr)) return true;
  for (auto item : arr) {
    od::value iv;
    if (std::move(item).get(iv) || !read_doc(iv, out)) return false;
  }
  return true;
}

// What delta.extra carries for us.
struct ExtraOut {
  std::vector<std::string_view>* thoughts;  // summary_thought.content[]
  std::vector<SourceView>* docs;            // tool_result.docs[] (newer search format)
  std::vector<SourceView>* info;            // web_search_info[] (older search format)
  std::vector<SourceView>* research;        // deep_research webSites[] and references[]
  std::string_view* research_goal;          // deep_research.research.researchGoal
};

// extra.deep_research (docs/upstream.md "Deep research"):
// {"research": {"researchGoal": "…", "webSites": [{url, title, …}]},
//  "references": [{url, title, …}]}.
bool read_deep_research(od::value v, const ExtraOut& out) {
  od::object dr;
  if (v.get_object().get(dr)) return true;
  for (auto fr : dr) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) || f.unescaped_key().get(k)) return false;
    if (k == "references") {
      if (!read_docs(f.value(), out.research)) return false;
      continue;
    }
    if (k != "research") continue;
    od::object r;
    if (f.value().get_object().get(r)) continue;
    for (auto rfr : r) {
      od::field rf;
      std::string_view rk;
      if (std::move(rfr).get(rf) || rf.unescaped_key().get(rk)) return false;
      bool ok = true;
      if (rk == "researchGoal")
        ok = opt_string(rf.value(), out.research_goal);
      else if (rk == "webSites")
        ok = read_docs(rf.value(), out.research);
      if (!ok) return false;
    }
  }
  return true;
}

// extra.summary_thought.content[]: cumulative summary strings;
// extra.tool_result.docs[] and extra.web_search_info[]: search sources.
bool read_extra(od::value v, const ExtraOut& out) {
  od::object extra;
  if (v.get_object().get(extra)) return true;  // not an object: nothing for us
  for (auto fr : extra) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) || f.unescaped_key().get(k)) return false;
    if (k == "web_search_info") {
      if (!read_docs(f.value(), out.info)) return false;
      continue;
    }
    if (k == "deep_research") {
      if (!read_deep_research(f.value(), out)) return false;
      continue;
    }
    if (k == "tool_result") {
      od::object tr;
      if (f.value().get_object().get(tr)) continue;
      for (auto tfr : tr) {
        od::field tf;
        std::string_view tk;
        if (std::move(tfr).get(tf) || tf.unescaped_key().get(tk)) return false;
        if (tk == "docs" && !read_docs(tf.value(), out.docs)) return false;
      }
      continue;
    }
    if (k != "summary_thought") continue;
    od::object st;
    if (f.value().get_object().get(st)) continue;
    for (auto sfr : st) {
      od::field sf;
      std::string_view sk;
      if (std::move(sfr).get(sf) || sf.unescaped_key().get(sk)) return false;
      if (sk != "content") continue;
      od::array arr;
      if (sf.value().get_array().get(arr)) continue;
      for (auto item : arr) {
        od::value iv;
        if (std::move(item).get(iv)) return false;
        std::string_view s;
        if (!opt_string(iv, &s)) return false;
        if (!s.empty()) out.thoughts->push_back(s);
      }
    }
  }
  return true;
}

bool read_delta(od::value v, EventFields* e, const ExtraOut& extra) {
  od::object delta;
  if (v.get_object().get(delta)) return true;
  e->has_delta = true;
  for (auto fr : delta) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) || f.unescaped_key().get(k)) return false;
    od::value fv = f.value();
    bool ok = true;
    if (k == "content") {
      std::string_view s;
      od::json_type t;
      if (fv.type().get(t)) return false;
      if (t == od::json_type::string) {
        ok = !fv.get_string().get(s);
        e->content = s;
        e->has_content = true;
      }
    } else if (k == "role") {
      ok = opt_string(fv, &e->role);
    } else if (k == "phase") {
      ok = opt_string(fv, &e->phase);
    } else if (k == "status") {
      ok = opt_string(fv, &e->status);
    } else if (k == "name") {
      ok = opt_string(fv, &e->name);
    } else if (k == "extra") {
      ok = read_extra(fv, extra);
    }
    if (!ok) return false;
  }
  return true;
}

// choices[0].delta; later choices are ignored (the web API sends one).
bool read_choices(od::value v, EventFields* e, const ExtraOut& extra) {
  od::array choices;
  if (v.get_array().get(choices)) return true;
  bool first = true;
  for (auto item : choices) {
    od::value cv;
    if (std::move(item).get(cv)) return false;
    if (!first) continue;  // unconsumed values are skipped by the iterator
    first = false;
    od::object choice;
    if (cv.get_object().get(choice)) continue;
    for (auto fr : choice) {
      od::field f;
      std::string_view k;
      if (std::move(fr).get(f) || f.unescaped_key().get(k)) return false;
      if (k == "delta" && !read_delta(f.value(), e, extra)) return false;
    }
  }
  return true;
}

bool read_usage(od::value v, StreamUsage* u) {
  od::object obj;
  if (v.get_object().get(obj)) return true;
  u->present = true;
  for (auto fr : obj) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) || f.unescaped_key().get(k)) return false;
    bool ok = true;
    if (k == "input_tokens" || k == "prompt_tokens") {
      ok = opt_int(f.value(), &u->input_tokens);
    } else if (k == "output_tokens" || k == "completion_tokens") {
      ok = opt_int(f.value(), &u->output_tokens);
    } else if (k == "total_tokens") {
      ok = opt_int(f.value(), &u->total_tokens);
    } else if (k == "output_tokens_details" || k == "completion_tokens_details") {
      od::object details;
      if (f.value().get_object().get(details)) continue;
      for (auto dfr : details) {
        od::field df;
        std::string_view dk;
        if (std::move(dfr).get(df) || df.unescaped_key().get(dk)) return false;
        if (dk != "reasoning_tokens") continue;
        od::json_type t;
        if (df.value().type().get(t)) return false;
        if (t != od::json_type::number) continue;
        if (!opt_int(df.value(), &u->reasoning_tokens)) return false;
        u->reasoning_reported = true;
      }
    }
    if (!ok) return false;
  }
  return true;
}

bool read_created(od::value v, EventFields* e) {
  od::object obj;
  if (v.get_object().get(obj)) return true;
  e->created = true;
  for (auto fr : obj) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) || f.unescaped_key().get(k)) return false;
    bool ok = true;
    if (k == "chat_id")
      ok = opt_string(f.value(), &e->chat_id);
    else if (k == "parent_id")
      ok = opt_string(f.value(), &e->parent_id);
    else if (k == "response_id")
      ok = opt_string(f.value(), &e->response_id);
    if (!ok) return false;
  }
  return true;
}

// A top-level `data` object is an error envelope when it has code or error.
bool data_has_error(od::value v, bool* out) {
  od::object obj;
  if (v.get_object().get(obj)) return true;
  for (auto fr : obj) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) || f.unescaped_key().get(k)) return false;
    if (k == "code" || k == "error") {
      bool null = false;
      if (!is_null(f.value(), &null)) return false;
      if (!null) *out = true;
    }
  }
  return true;
}

// One parser, payload copy and scratch list per thread, shared by every
// interpreter: interpret() is not re-entrant and nothing of a document
// outlives the call. Kept per interpreter, simdjson's buffers (the depth
// arrays for 1,024 levels, the structural index) cost every open stream
// ≈10 KiB (docs/benchmarks.md, "Step 6: memory per open stream").
struct Scratch {
  od::parser parser;
  std::string padded;                      // payload copy with SIMDJSON_PADDING spare bytes
  std::vector<std::string_view> thoughts;  // views into the parser's string buffer
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

void QwenEventInterpreter::reset() {
  sources_.clear();
  summary_.clear();
  reasoning_sent_ = false;
  research_break_ = false;
  research_phase_ = 0;
  chat_id_.clear();
  parent_id_.clear();
  response_id_.clear();
  usage_ = StreamUsage{};
  failure_ = UpstreamFailure{};
  events_ = 0;
  finished_ = false;
  failed_ = false;
}

EventOutcome QwenEventInterpreter::fail_malformed(std::string_view payload) {
  failed_ = true;
  if (has_waf_marker(payload)) {
    failure_ = classify_response(200, "text/event-stream", payload);
  } else {
    failure_ = UpstreamFailure{Code::kUpstream, "Qwen sent a malformed stream event", 0, nullptr};
  }
  return EventOutcome::kError;
}

EventOutcome QwenEventInterpreter::fail_event(std::string_view payload) {
  failed_ = true;
  failure_ = classify_response(200, "text/event-stream", payload);
  return EventOutcome::kError;
}

EventOutcome QwenEventInterpreter::interpret(std::string_view payload, std::string* content,
                                             std::string* reasoning) {
  if (failed_) return EventOutcome::kError;
  if (finished_) return EventOutcome::kFinished;
  ++events_;
  std::string_view body = trim(payload);
  if (body.empty() || body == "[DONE]") return EventOutcome::kContinue;
  if (body.front() != '{') return fail_malformed(body);

  Scratch& sc = scratch();
  std::string& padded = sc.padded;
  std::vector<std::string_view>& thoughts = sc.thoughts;
  size_t need = body.size() + simdjson::SIMDJSON_PADDING;
  if (padded.size() < need) padded.resize(need);
  std::memcpy(padded.data(), body.data(), body.size());
  // The padding must not hold what an earlier (longer) payload left there:
  // on a malformed document simdjson may read into it, and the result then
  // depended on which event this thread parsed before (found by the
  // sse_stream fuzz target once the buffer became shared).
  std::memset(padded.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document doc;
  od::object root;
  if (sc.parser.iterate(padded.data(), body.size(), padded.size()).get(doc) ||
      doc.get_object().get(root)) {
    return fail_malformed(body);
  }
  EventFields e;
  thoughts.clear();
  std::vector<SourceView> docs, info, research;  // empty (no allocation) unless sources come
  ExtraOut extra{&thoughts, &docs, &info, &research, &e.research_goal};
  for (auto fr : root) {
    od::field f;
    std::string_view k;
    if (std::move(fr).get(f) || f.unescaped_key().get(k)) return fail_malformed(body);
    od::value v = f.value();
    bool ok = true;
    if (k == "choices") {
      ok = read_choices(v, &e, extra);
    } else if (k == "usage") {
      ok = read_usage(v, &e.usage);
    } else if (k == "response.created") {
      ok = read_created(v, &e);
    } else if (k == "success") {
      od::json_type t;
      bool b = true;
      ok = !v.type().get(t);
      if (ok && t == od::json_type::boolean) ok = !v.get_bool().get(b);
      if (!b) e.error_marker = true;
    } else if (k == "error") {
      bool null = false;
      ok = is_null(v, &null);
      if (!null) e.error_marker = true;
    } else if (k == "code") {
      // A non-empty string or any other non-null value marks an error.
      od::json_type t;
      ok = !v.type().get(t);
      if (ok && t == od::json_type::string) {
        std::string_view s;
        ok = !v.get_string().get(s);
        if (ok && !s.empty()) e.error_marker = true;
      } else if (ok && t != od::json_type::null) {
        e.error_marker = true;
      }
    } else if (k == "data") {
      ok = data_has_error(v, &e.error_marker);
    } else if (k == "ret") {
      e.error_marker = true;  // mtop/baxia envelope (WAF punish)
    }
    // response.info (keep-alive), response_id, timestamp and unknown keys: skipped.
    if (!ok) return fail_malformed(body);
  }
  if (e.error_marker) return fail_event(body);

  if (e.created) {
    if (!e.chat_id.empty()) chat_id_.assign(e.chat_id);
    if (!e.parent_id.empty()) parent_id_.assign(e.parent_id);
    if (!e.response_id.empty()) response_id_.assign(e.response_id);
  }
  if (e.usage.present) {
    StreamUsage before = usage_;
    usage_ = e.usage;
    if (!usage_.reasoning_reported) {  // keep what was derived (or reported) so far
      usage_.reasoning_tokens = before.reasoning_tokens;
      usage_.reasoning_reported = before.reasoning_reported;
    }
    if (usage_.total_tokens == 0)
      usage_.total_tokens = saturating_add(usage_.input_tokens, usage_.output_tokens);
  }
  // Sources: web_search_info is search-only; tool_result docs count when
  // the result is web_search's (other built-in tools have results too).
  for (const SourceView& sv : info) add_source(sv.url, sv.title);
  if (e.phase == "web_search" || e.name == "web_search") {
    for (const SourceView& sv : docs) add_source(sv.url, sv.title);
  }
  for (const SourceView& sv : research) add_source(sv.url, sv.title);
  if (!e.has_delta || e.role == "function") return EventOutcome::kContinue;

  bool think = e.phase == "think" || e.phase == "thinking" || e.phase == "reasoning";
  uint8_t research_phase = e.phase == "ResearchPlanning" ? 1 : e.phase == "WebResearch" ? 2 : 0;
  if ((think || research_phase != 0 || e.phase == "thinking_summary") &&
      !usage_.reasoning_reported) {
    // Derived reasoning tokens: the output so far, all of it reasoning.
    usage_.reasoning_tokens = usage_.output_tokens;
  }

  if (e.phase.empty() || e.phase == "answer") {
    if (e.has_content) content->append(e.content);
    if (e.status == "finished") {
      finished_ = true;
      return EventOutcome::kFinished;
    }
  } else if (think) {
    if (e.has_content && !e.content.empty()) {
      reasoning->append(e.content);
      reasoning_sent_ = true;
    }
  } else if (research_phase != 0) {
    if (research_phase != research_phase_ && research_phase_ != 0) research_break_ = true;
    research_phase_ = research_phase;
    append_research(reasoning, e.research_goal);
    if (e.has_content) append_research(reasoning, e.content);
    // A step ends: the plan (status finished) or a search round
    // (WebResultFinished).
    if (e.status == "finished" || e.status == "WebResultFinished") research_break_ = true;
  } else if (e.phase == "thinking_summary") {
    if (!thoughts.empty()) {
      std::string full;
      for (size_t i = 0; i < thoughts.size(); ++i) {
        if (i > 0) full.push_back('\n');
        full.append(thoughts[i]);
      }
      if (full.size() >= summary_.size() && full.compare(0, summary_.size(), summary_) == 0) {
        reasoning->append(full, summary_.size());
      } else {
        // The summary was rewritten rather than extended: start a new paragraph.
        reasoning->append("\n\n");
        reasoning->append(full);
      }
      summary_ = std::move(full);
      reasoning_sent_ = true;
    }
  }
  // KeepAlive (deep research's keep-alive phase) and other phases: no text.
  return EventOutcome::kContinue;
}

void QwenEventInterpreter::append_research(std::string* reasoning, std::string_view text) {
  if (text.empty()) return;
  if (research_break_ && reasoning_sent_) reasoning->append("\n\n");
  research_break_ = false;
  reasoning->append(text);
  reasoning_sent_ = true;
}

void QwenEventInterpreter::add_source(std::string_view url, std::string_view title) {
  url = trim(url);
  if (sources_.size() >= protocol::kMaxSources || url.size() > protocol::kMaxSourceUrlBytes) return;
  // Only web links become citations (the OpenAI schema's url is a URI the
  // client may open): no javascript:, data: or relative values.
  if (url.substr(0, 8) != "https://" && url.substr(0, 7) != "http://") return;
  for (const auto& s : sources_) {
    if (s.url == url) return;
  }
  title = trim(title);
  if (title.size() > protocol::kMaxSourceTitleBytes) {
    size_t n = protocol::kMaxSourceTitleBytes;
    while (n > 0 && (static_cast<unsigned char>(title[n]) & 0xC0) == 0x80) --n;  // UTF-8 boundary
    title = title.substr(0, n);
  }
  sources_.push_back({std::string(url), std::string(title)});
}

// NOLINTEND(performance-move-const-arg)
}  // namespace qp::worker

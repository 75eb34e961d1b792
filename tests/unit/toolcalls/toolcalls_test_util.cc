#include "toolcalls_test_util.h"

#include <fstream>
#include <sstream>

#include "common/protocol/messages.h"

namespace qp::worker::toolcalls::test {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string testdata(const std::string& relative) {
  return read_file(std::string(QP_TESTDATA_DIR) + "/tools/" + relative);
}

namespace {

protocol::JobRequest base_job() {
  protocol::JobRequest job;
  job.model = "qwen3-max";
  job.messages.push_back({"user", "hello", "", "", ""});
  return job;
}

}  // namespace

ToolPlan native_plan(std::string_view tool_choice, bool parallel) {
  auto job = base_job();
  job.tools = testdata("native_tools.json");
  job.tool_choice = std::string(tool_choice);
  job.parallel_tool_calls = parallel;
  auto plan = plan_tools(job);
  return plan.value();
}

ToolPlan roo_plan() {
  auto job = base_job();
  job.tools = testdata("native_tools.json");
  job.tool_choice = "\"auto\"";
  job.messages.insert(job.messages.begin(),
                      {"system", testdata("roo_native_system_prompt.txt"), "", "", ""});
  return plan_tools(job).value();
}

ToolPlan xml_plan() {
  auto job = base_job();
  job.messages.insert(job.messages.begin(),
                      {"system", testdata("roo_xml_system_prompt.txt"), "", "", ""});
  return plan_tools(job).value();
}

ToolPlan release_plan(const std::string& release) {
  auto job = base_job();
  job.tools = testdata("roo-native-v" + release + ".json");
  job.tool_choice = "\"auto\"";
  job.messages.insert(job.messages.begin(),
                      {"system", testdata("roo_native_system_prompt.txt"), "", "", ""});
  return plan_tools(job).value();
}

ToolPlan release_xml_plan(const std::string& release) {
  ToolPlan plan = xml_plan();
  ToolPlan native = release_plan(release);
  std::vector<std::string> tools;
  for (const auto& t : plan.catalog.tools) {
    if (native.tools.find(t) != nullptr) tools.push_back(t);
  }
  plan.catalog.tools = tools;
  return plan;
}

std::string describe(const Outcome& o) {
  std::string s = "content=[" + o.content + "]";
  for (const auto& c : o.calls) s += "\ncall " + c.id + " " + c.name + " " + c.arguments;
  for (const auto& w : o.warnings) s += "\nwarn " + w;
  s += "\nfinish=" + o.finish_reason + " stop=" + (o.stop ? "1" : "0") +
       " retry=" + (o.retry ? "1" : "0");
  if (!o.error.empty()) s += "\nerror " + o.error;
  return s;
}

namespace {

void collect(const StreamOutput& out, Outcome* o) {
  for (const auto& chunk : out.chunks) {
    o->content.append(chunk.content);
    if (!chunk.reasoning.empty()) o->error = "reasoning in a tool stream chunk";
    for (const auto& d : chunk.tool_calls) {
      if (d.index < 0 || static_cast<size_t>(d.index) > o->calls.size()) {
        o->error = "tool call index out of order";
        continue;
      }
      if (static_cast<size_t>(d.index) == o->calls.size()) {
        if (d.id.empty() || d.name.empty()) {
          o->error = "first delta of a call without id or name";
          continue;
        }
        o->calls.push_back({d.id, d.name, ""});
      } else if (!d.id.empty() || !d.name.empty()) {
        o->error = "later delta repeats id or name";
      }
      o->calls[d.index].arguments.append(d.arguments);
    }
  }
  for (const auto& w : out.warnings) o->warnings.push_back(w);
}

}  // namespace

Outcome run_pieces(const ToolPlan& plan, const std::vector<std::string_view>& pieces,
                   StreamOptions options) {
  int counter = 0;
  if (!options.next_id)
    options.next_id = [&counter] { return "call_" + std::to_string(++counter); };
  auto stream = make_tool_stream(plan, options);
  Outcome o;
  StreamOutput out;
  for (auto piece : pieces) {
    out.clear();
    stream->feed(piece, &out);
    collect(out, &o);
    if (stream->buffered_bytes() > stream->max_buffered_bytes() && plan.mode != ToolMode::kOff)
      o.error = "memory bound exceeded";
    if (stream->stop_upstream()) break;
  }
  o.stop = stream->stop_upstream();
  out.clear();
  stream->finish(&out);
  collect(out, &o);
  o.retry = stream->retry_wanted();
  o.finish_reason = std::string(stream->finish_reason());
  return o;
}

Outcome run_whole(const ToolPlan& plan, std::string_view text, StreamOptions options) {
  return run_pieces(plan, {text}, std::move(options));
}

Outcome run_split(const ToolPlan& plan, std::string_view text, size_t at, StreamOptions options) {
  return run_pieces(plan, {text.substr(0, at), text.substr(at)}, std::move(options));
}

}  // namespace qp::worker::toolcalls::test

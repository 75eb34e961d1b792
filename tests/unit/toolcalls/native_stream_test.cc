#include "worker/toolcalls/native_stream.h"

#include <catch2/catch.hpp>

#include "toolcalls_test_util.h"

using namespace qp::worker::toolcalls;
using namespace qp::worker::toolcalls::test;

namespace {

std::string call(std::string_view name, std::string_view param, std::string_view value) {
  std::string s = "<tool_call>\n<function=fn_";
  s.append(name).append(">\n<parameter=").append(param).append(">\n");
  s.append(value).append("\n</parameter>\n</function>\n</tool_call>");
  return s;
}

}  // namespace

TEST_CASE("text reaches the client at once; only a possible tag is held", "[tools][native]") {
  ToolPlan plan = roo_plan();
  auto stream = make_tool_stream(plan, {});
  StreamOutput out;
  stream->feed("Hello", &out);
  CHECK(out.text() == "Hello");  // first token immediately, even in guaranteed mode
  out.clear();
  stream->feed(" world <tool_c", &out);
  CHECK(out.text() == " world");  // the blank before a possible call waits too
  CHECK(stream->buffered_bytes() == std::string(" <tool_c").size());
  out.clear();
  stream->feed("hair> is furniture", &out);
  CHECK(out.text() == " <tool_chair> is furniture");
  out.clear();
  stream->finish(&out);
  REQUIRE(out.chunks.size() == 1);
  REQUIRE(out.chunks[0].tool_calls.size() == 2);
  CHECK(out.chunks[0].tool_calls[0].name == "attempt_completion");
  CHECK(out.chunks[0].tool_calls[1].arguments ==
        R"({"result":"The answer is in the message above."})");
  CHECK(stream->finish_reason() == "tool_calls");
}

TEST_CASE("a call comes out as two deltas with a fresh id", "[tools][native]") {
  ToolPlan plan = native_plan();
  auto stream = make_tool_stream(plan, {});
  StreamOutput out;
  stream->feed("Reading.\n" + call("read_file", "path", "a.txt"), &out);
  REQUIRE(out.chunks.size() == 2);
  CHECK(out.chunks[0].content == "Reading.");
  const auto& deltas = out.chunks[1].tool_calls;
  REQUIRE(deltas.size() == 2);
  CHECK(deltas[0].index == 0);
  CHECK(deltas[0].id.size() == 5 + 24);
  CHECK(deltas[0].id.rfind("call_", 0) == 0);
  CHECK(deltas[0].name == "read_file");
  CHECK(deltas[0].arguments.empty());
  CHECK(deltas[1].index == 0);
  CHECK(deltas[1].id.empty());
  CHECK(deltas[1].name.empty());
  CHECK(deltas[1].arguments == R"({"path":"a.txt","mode":null,"offset":null,"limit":null})");
  CHECK_FALSE(stream->stop_upstream());
  std::string first_id = deltas[0].id;
  out.clear();
  stream->feed(call("read_file", "path", "b.txt"), &out);
  REQUIRE(out.chunks.size() == 1);
  CHECK(out.chunks[0].tool_calls[0].index == 1);
  CHECK(out.chunks[0].tool_calls[0].id != first_id);
}

TEST_CASE("parallel_tool_calls false: the first call ends the answer", "[tools][native]") {
  ToolPlan plan = native_plan("", false);
  Outcome o = run_whole(
      plan, call("read_file", "path", "a") + "\n" + call("read_file", "path", "b") + "\nmore text");
  CHECK(o.calls.size() == 1);
  CHECK(o.stop);
  CHECK(o.content.empty());
  CHECK(o.finish_reason == "tool_calls");
  // Also when both calls sit in one JSON block.
  Outcome j = run_whole(plan, R"(<tool_call>[{"name":"fn_read_file","arguments":{"path":"a"}},)"
                              R"({"name":"fn_read_file","arguments":{"path":"b"}}]</tool_call>)");
  CHECK(j.calls.size() == 1);
  CHECK(j.stop);
}

TEST_CASE("tool_choice required: held text, one retry, then attempt_completion",
          "[tools][native]") {
  ToolPlan plan = native_plan("\"required\"");
  SECTION("text before a call is released with the call") {
    Outcome o = run_whole(plan, "Sure.\n" + call("list_files", "path", "."));
    CHECK(o.content == "Sure.");
    CHECK(o.calls.size() == 1);
    CHECK_FALSE(o.retry);
  }
  SECTION("no call on the first attempt: nothing out, retry wanted") {
    auto stream = make_tool_stream(plan, {});
    StreamOutput out;
    stream->feed("I think the answer is 42.", &out);
    CHECK(out.chunks.empty());  // held: it may still be followed by a call
    stream->finish(&out);
    CHECK(out.chunks.empty());
    CHECK(stream->retry_wanted());
    CHECK(stream->finish_reason().empty());
  }
  SECTION("no call on the retry: wrapped in attempt_completion, text shown once") {
    StreamOptions opt;
    opt.attempt = 1;
    Outcome o = run_whole(plan, "The answer is 42.", opt);
    CHECK(o.content.empty());
    REQUIRE(o.calls.size() == 1);
    CHECK(o.calls[0].name == "attempt_completion");
    CHECK(o.calls[0].arguments == R"({"result":"The answer is 42."})");
    CHECK_FALSE(o.retry);
    CHECK(o.warnings.size() == 1);
  }
  SECTION("an empty reply stays empty") {
    Outcome o = run_whole(plan, "  \n");
    CHECK(o.content.empty());
    CHECK(o.calls.empty());
    CHECK_FALSE(o.retry);
  }
  SECTION("held text too long to hold is streamed, and then not retried") {
    StreamOptions opt;
    opt.max_held_text_bytes = 10;
    Outcome o = run_whole(plan, "0123456789abcdef", opt);
    CHECK(o.content == "0123456789abcdef");
    CHECK_FALSE(o.retry);
    REQUIRE(o.calls.size() == 1);  // the text was shown: the completion points to it
    CHECK(o.calls[0].arguments == R"({"result":"The answer is in the message above."})");
  }
}

TEST_CASE("required without attempt_completion: text after the retry", "[tools][native]") {
  qp::protocol::JobRequest job;
  job.messages.push_back({"user", "hi", "", "", ""});
  job.tools =
      R"([{"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}])";
  job.tool_choice = "\"required\"";
  ToolPlan plan = plan_tools(job).value();
  StreamOptions opt;
  opt.attempt = 1;
  Outcome o = run_whole(plan, "It is noon.", opt);
  CHECK(o.content == "It is noon.");
  CHECK(o.calls.empty());
  CHECK(o.warnings.size() == 1);
}

TEST_CASE("named tool_choice accepts only that tool and stops after it", "[tools][native]") {
  ToolPlan plan = native_plan(R"({"type":"function","function":{"name":"list_files"}})");
  Outcome other = run_whole(plan, call("read_file", "path", "x"));
  CHECK(other.calls.empty());
  CHECK(other.retry);  // the read_file call became held text; no list_files call
  Outcome named =
      run_whole(plan, call("list_files", "path", "x") + call("list_files", "path", "y"));
  CHECK(named.calls.size() == 1);
  CHECK(named.stop);
}

TEST_CASE("tool_choice none and no tools pass text through", "[tools][native]") {
  ToolPlan plan = native_plan("\"none\"");
  std::string text = call("read_file", "path", "a");
  Outcome o = run_whole(plan, text);
  CHECK(o.content == text);
  CHECK(o.calls.empty());
}

TEST_CASE("huge arguments: accepted up to the call limit, text beyond it", "[tools][native]") {
  ToolPlan plan = native_plan();
  std::string body;
  while (body.size() < 900 * 1024) body.append("line <x> & \"quoted\" </content> \\ end\n");
  Outcome big = run_pieces(plan, {"<tool_call>\n<function=fn_write_to_file>\n<parameter=path>\nf\n",
                                  "</parameter>\n<parameter=content>\n", body,
                                  "\n</parameter>\n</function>\n</tool_call>"});
  REQUIRE(big.calls.size() == 1);
  CHECK(big.error.empty());
  CHECK(big.calls[0].arguments.size() > body.size());
  std::string too_big = body + body;
  Outcome over = run_whole(plan, call("write_to_file", "content", too_big));
  CHECK(over.calls.empty());
  CHECK(over.error.empty());  // memory bound held
  CHECK(over.content.size() > too_big.size());
  REQUIRE_FALSE(over.warnings.empty());
  CHECK(over.warnings[0].find("max_call_bytes") != std::string::npos);
}

TEST_CASE("a small call limit splits deterministically", "[tools][native]") {
  ToolPlan plan = native_plan();
  StreamOptions opt;
  opt.max_call_bytes = 120;
  std::string text = "a " + call("read_file", "path", std::string(200, 'p')) + " z " +
                     call("read_file", "path", "ok");
  Outcome whole = run_whole(plan, text, opt);
  CHECK(whole.calls.size() == 1);
  for (size_t at = 0; at <= text.size(); ++at) {
    INFO("split at " << at);
    REQUIRE(run_split(plan, text, at, opt) == whole);
  }
}

TEST_CASE("the memory bound covers a flood of possible tags", "[tools][native]") {
  ToolPlan plan = native_plan();
  auto stream = make_tool_stream(plan, {});
  StreamOutput out;
  std::string flood(1 << 16, '<');
  stream->feed(flood, &out);
  stream->feed("<tool_call>   " + std::string(300, ' '), &out);
  CHECK(stream->buffered_bytes() <= stream->max_buffered_bytes());
  stream->feed("x", &out);
  CHECK(stream->buffered_bytes() < 64);
}

TEST_CASE("native: text that only looks like a call comes back byte for byte, at every split",
          "[tools][native]") {
  // The blanks before a tag are held with it and released when it is ruled out.
  const std::vector<std::string> texts = {
      "see the <tool_call><function=x> thing",
      "see the <tool_call><function=x> thing\n",
      "see the  \n <tool_call> <function=nope> and more",
      "a <function=read_file><parameter=path>x",  // cut inside a value
      "x \t<read_file><path>y",                   // Roo style, cut inside a value
      "one <tool_call>{not json at all}</tool_call> two",
      "use the <read_file> tool",
  };
  StreamOptions retry;
  retry.attempt = 1;
  for (const auto& plan : {native_plan(), native_plan("", false)}) {
    for (const auto& t : texts) {
      Outcome whole = run_whole(plan, t, retry);
      INFO(t << "\n" << describe(whole));
      CHECK(whole.calls.empty());
      std::string want(t);
      while (!want.empty() && (want.back() == ' ' || want.back() == '\n')) want.pop_back();
      CHECK(whole.content == want);
      for (size_t at = 0; at <= t.size(); ++at) CHECK(run_split(plan, t, at, retry) == whole);
    }
  }
  // The blanks before a real call are still dropped.
  Outcome o = run_whole(native_plan(),
                        "Reading. \n<tool_call>\n<function=fn_read_file>\n"
                        "<parameter=path>\na\n</parameter>\n</function>\n</tool_call>");
  CHECK(o.content == "Reading.");
  REQUIRE(o.calls.size() == 1);
}

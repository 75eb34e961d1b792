#include "worker/models_parser.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "worker/new_chat_parser.h"

using qp::protocol::ModelInfo;
using qp::worker::parse_models;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const ModelInfo* find(const std::vector<ModelInfo>& v, std::string_view id) {
  auto it = std::find_if(v.begin(), v.end(), [&](const ModelInfo& m) { return m.id == id; });
  return it == v.end() ? nullptr : &*it;
}

bool has(const ModelInfo& m, std::string_view cap) {
  return std::find(m.capabilities.begin(), m.capabilities.end(), cap) != m.capabilities.end();
}

}  // namespace

TEST_CASE("models: the captured list", "[models]") {
  auto r = parse_models(read_file(QP_TESTDATA_DIR "/upstream/models.json"));
  REQUIRE(r.has_value());
  auto& v = r.value();
  REQUIRE(v.size() == 4);
  CHECK(v[0].id == "qwen3-max");
  CHECK(v[1].id == "qwen3-vl-plus");
  CHECK(v[2].id == "qwen3-coder-plus");
  CHECK(v[3].id == "qwen3-vl-32b");

  const ModelInfo& max = v[0];
  CHECK(max.name == "Qwen3-Max");
  CHECK(max.owned_by == "qwen");
  CHECK(max.context_length == 262144);
  CHECK(max.max_output_tokens == 32768);
  CHECK(max.created == 1732711466);
  CHECK(max.capabilities == std::vector<std::string>{"audio", "citations", "deep_research",
                                                     "document", "image_edit", "image_generation",
                                                     "mcp", "search", "video", "video_generation",
                                                     "vision"});
  CHECK_FALSE(has(max, "thinking"));

  const ModelInfo& vl = v[1];
  CHECK(vl.context_length == 262144);
  CHECK(vl.max_output_tokens == 0);  // the capture has no max_generation_length for it
  CHECK(has(vl, "thinking"));
  CHECK(has(vl, "thinking_budget"));
  CHECK_FALSE(has(vl, "search"));   // no "search" in its chat_type
  CHECK(has(vl, "deep_research"));  // but "deep_research"

  CHECK(v[2].context_length == 1048576);
  CHECK(v[2].max_output_tokens == 65536);
  CHECK(v[3].context_length == 131072);
}

TEST_CASE("models: abilities as ints and bools; zero and false are absent", "[models]") {
  auto r = parse_models(R"({"data":[{"id":"m","info":{"meta":{
      "abilities":{"vision":1,"audio":0,"thinking":true,"video":false,"mcp":2.0},
      "capabilities":{"document":true,"citations":false},
      "chat_type":["t2t","search",7,"t2i"],"max_context_length":1000}}}]})");
  REQUIRE(r.has_value());
  REQUIRE(r.value().size() == 1);
  const auto& m = r.value()[0];
  CHECK(m.capabilities == std::vector<std::string>{"document", "image_generation", "mcp", "search",
                                                   "thinking", "vision"});
  CHECK(m.name == "m");  // falls back to the id
  CHECK(m.context_length == 1000);
}

TEST_CASE("models: accepted shapes and skipped entries", "[models]") {
  auto wrapped = parse_models(R"({"success":true,"data":{"data":[{"id":"a"}]}})");
  REQUIRE(wrapped.has_value());
  CHECK(wrapped.value().size() == 1);
  auto bare = parse_models(R"([{"id":"a"},{"info":{"id":"b","name":"B"}},{"name":"no id"},7])");
  REQUIRE(bare.has_value());
  REQUIRE(bare.value().size() == 2);
  CHECK(bare.value()[1].id == "b");
  CHECK(bare.value()[1].name == "B");
}

TEST_CASE("models: errors", "[models]") {
  CHECK_FALSE(parse_models("not json").has_value());
  CHECK_FALSE(parse_models(R"({"success":false,"data":{"code":"Unauthorized"}})").has_value());
  CHECK_FALSE(parse_models(R"({"models":[]})").has_value());
  CHECK(parse_models("<html>").error().code() == qp::Code::kUpstream);
}

TEST_CASE("models: thinking, search and deep research variants", "[models]") {
  auto r = parse_models(read_file(QP_TESTDATA_DIR "/upstream/models.json"));
  REQUIRE(r.has_value());
  auto v = r.value();
  qp::worker::add_model_variants(&v);
  REQUIRE(find(v, "qwen3-vl-plus-thinking") != nullptr);
  CHECK(find(v, "qwen3-vl-plus-thinking")->context_length == 262144);
  CHECK(find(v, "qwen3-max-search") != nullptr);
  CHECK(find(v, "qwen3-coder-plus-search") != nullptr);
  CHECK(find(v, "qwen3-vl-32b-thinking") != nullptr);
  CHECK(find(v, "qwen3-max-thinking") == nullptr);
  CHECK(find(v, "qwen3-vl-plus-search") == nullptr);
  // Every captured model lists deep_research in its chat_type.
  for (const char* id : {"qwen3-max", "qwen3-vl-plus", "qwen3-coder-plus", "qwen3-vl-32b"}) {
    const auto* dr = find(v, std::string(id) + "-deep-research");
    REQUIRE(dr != nullptr);
    CHECK(dr->name.find("(deep research)") != std::string::npos);
  }
  // t2i and t2v too: the -image and -video variants.
  for (const char* id : {"qwen3-max", "qwen3-vl-plus", "qwen3-coder-plus", "qwen3-vl-32b"}) {
    REQUIRE(find(v, std::string(id) + "-image") != nullptr);
    CHECK(find(v, std::string(id) + "-image")->name.find("(image generation)") !=
          std::string::npos);
    REQUIRE(find(v, std::string(id) + "-video") != nullptr);
  }
  CHECK(v.size() == 4 + 4 + 4 + 4 + 4);
}

TEST_CASE("new chat: the captured answer and bad shapes", "[models]") {
  auto id = qp::worker::parse_new_chat(read_file(QP_TESTDATA_DIR "/upstream/chats-new.json"));
  REQUIRE(id.has_value());
  CHECK(id.value() == "0bb333d4-3f20-434d-88c4-5768860e772d");
  CHECK_FALSE(
      qp::worker::parse_new_chat(R"({"success":false,"data":{"code":"RateLimited"}})").has_value());
  CHECK_FALSE(qp::worker::parse_new_chat(R"({"success":true,"data":{}})").has_value());
  CHECK_FALSE(qp::worker::parse_new_chat(R"({"success":true,"data":{"id":""}})").has_value());
  CHECK_FALSE(qp::worker::parse_new_chat("<html>").has_value());
}

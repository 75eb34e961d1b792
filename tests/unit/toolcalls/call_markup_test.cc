#include "worker/toolcalls/call_markup.h"

#include <catch2/catch.hpp>

#include "worker/toolcalls/xml_fragment.h"

using namespace qp::worker::toolcalls;

namespace {

struct AnyParam : ParamNames {
  bool is_param(std::string_view, std::string_view name) const override {
    return name == "path" || name == "content" || name == "recursive";
  }
};

std::vector<RawCall> tool_call(std::string_view body) {
  AnyParam names;
  std::vector<RawCall> calls;
  std::string why;
  INFO(why);
  bool ok = parse_tool_call_body(body, &names, &calls, &why);
  INFO("why: " << why);
  REQUIRE(ok);
  return calls;
}

}  // namespace

TEST_CASE("tool_call bodies: JSON in its usual shapes", "[tools][markup]") {
  auto c = tool_call(R"({"name":"fn_a","arguments":{"x":1}})");
  REQUIRE(c.size() == 1);
  CHECK(c[0].name == "fn_a");
  CHECK(c[0].has_json);
  CHECK(c[0].json == R"({"x":1})");
  CHECK(tool_call(R"({"name":"a","arguments":"{\"x\":2}"})")[0].json == R"({"x":2})");
  CHECK(tool_call(R"({"name":"a","parameters":{"y":1}})")[0].json == R"({"y":1})");
  CHECK(tool_call(R"({"name":"a","input":{"z":1}})")[0].json == R"({"z":1})");
  CHECK(tool_call(R"({"name":"a"})")[0].json == "{}");
  CHECK(tool_call(R"({"name":"a","arguments":null})")[0].json == "{}");
  CHECK(tool_call(R"({"function":{"name":"b","arguments":"{}"}})")[0].name == "b");
  CHECK(tool_call("[{\"name\":\"a\"},{\"name\":\"b\"}]").size() == 2);
  CHECK(tool_call("{\"name\":\"a\"}\n{\"name\":\"b\"}").size() == 2);
  CHECK(tool_call("```json\n{\"name\":\"a\"}\n```").size() == 1);
  CHECK(tool_call("{\"name\":\"a\",\"arguments\":{\"s\":\"x\ny\"}}")[0].json ==
        R"({"s":"x\ny"})");  // raw line break repaired
}

TEST_CASE("tool_call bodies that are not calls", "[tools][markup]") {
  AnyParam names;
  std::vector<RawCall> calls;
  std::string why;
  CHECK_FALSE(parse_tool_call_body("", &names, &calls, &why));
  CHECK_FALSE(parse_tool_call_body("{\"arguments\":{}}", &names, &calls, &why));
  CHECK_FALSE(parse_tool_call_body("{\"name\":\"\"}", &names, &calls, &why));
  CHECK_FALSE(parse_tool_call_body("[1,2]", &names, &calls, &why));
  CHECK_FALSE(parse_tool_call_body("hello", &names, &calls, &why));
  CHECK_FALSE(parse_tool_call_body("<function=x", &names, &calls, &why));
  CHECK(calls.empty());
}

TEST_CASE("function blocks: parameters, values with tags, truncation", "[tools][markup]") {
  RawCall c;
  std::string why;
  REQUIRE(parse_function_body(
      "fn_w",
      "\n<parameter=path>\na.txt\n</parameter>\n<parameter=content>\nx </parameter> y\n"
      "</parameter>\n",
      &c, &why));
  REQUIRE(c.params.size() == 2);
  CHECK(c.params[0].value == "a.txt");
  CHECK(c.params[1].value == "x </parameter> y");
  RawCall r;
  REQUIRE(
      parse_function_body("w", "<parameter=a>1</parameter><parameter=a>2</parameter>", &r, &why));
  REQUIRE(r.params.size() == 1);
  CHECK(r.params[0].value == "2");  // last one wins
  RawCall t;
  REQUIRE(parse_function_body("w", "<parameter=a>\nhalf a val", &t, &why));
  CHECK(t.params[0].value == "half a val");
  RawCall j;
  REQUIRE(parse_function_body("'w'", " {\"k\": 1} ", &j, &why));
  CHECK(j.name == "w");
  CHECK(j.has_json);
  auto calls = tool_call("<function=fn_x>\n<parameter=path>\np\n</parameter>\n</function>");
  CHECK(calls[0].name == "fn_x");
  CHECK(calls[0].params[0].value == "p");
}

TEST_CASE("Roo-style blocks: known parameters only, content may hold its own tag",
          "[tools][markup]") {
  AnyParam names;
  RawCall c;
  std::string why;
  REQUIRE(parse_tag_body("write_to_file",
                         "\n<path>a.xml</path>\n<other>ignored</other>\n<content>\n<r></content>"
                         "</r>\n</content>\n",
                         names, &c, &why));
  REQUIRE(c.params.size() == 2);
  CHECK(c.params[0].value == "a.xml");
  CHECK(c.params[1].value == "<r></content></r>");
  auto calls = tool_call("<read_file>\n<path>x</path>\n</read_file>");
  CHECK(calls[0].name == "read_file");
  CHECK(calls[0].params[0].value == "x");
}

TEST_CASE("cut_inside_value", "[tools][markup]") {
  CHECK(cut_inside_value("{\"name\":\"a\",\"arguments\":{\"p\":\"src/ma"));
  CHECK_FALSE(cut_inside_value("{\"name\":\"a\",\"arguments\":{\"p\":\"x\"}"));
  CHECK(cut_inside_value("<function=a>\n<parameter=p>\nhal"));
  CHECK_FALSE(cut_inside_value("<function=a>\n<parameter=p>\nx\n</parameter>\n"));
  CHECK_FALSE(cut_inside_value("<function=a>\n<parameter=p>\nsay \"hi\n</parameter>\n"));
}

TEST_CASE("XML fragments", "[tools][markup]") {
  std::vector<XmlElement> e;
  REQUIRE(parse_xml_elements(" <a x=\"1\" y='2'>t<a>n</a></a>\n<b/> ", &e));
  REQUIRE(e.size() == 2);
  CHECK(e[0].name == "a");
  CHECK(e[0].attributes.size() == 2);
  CHECK(e[0].attributes[1].second == "2");
  CHECK(e[0].inner == "t<a>n</a>");
  CHECK(e[1].name == "b");
  CHECK(e[1].inner.empty());
  std::vector<XmlElement> f;
  CHECK_FALSE(parse_xml_elements("text <a>x</a>", &f));
  CHECK_FALSE(parse_xml_elements("<a>open", &f));
  CHECK_FALSE(parse_xml_elements("", &f));
  CHECK_FALSE(parse_xml_elements("<a b=c>x</a>", &f));
}

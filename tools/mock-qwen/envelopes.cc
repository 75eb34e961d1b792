#include "tools/mock-qwen/envelopes.h"

#include "common/json/writer.h"

namespace qp::mock {

std::string bad_parent_details(std::string_view parent_id) {
  std::string s = "Invalid input chat parent_id ";
  s.append(parent_id);
  s.append(" is not exist.");
  return s;
}

std::string unknown_chat_details(std::string_view chat_id) {
  std::string s = "Invalid input chat_id ";
  s.append(chat_id);
  s.append(" is not exist.");
  return s;
}

std::string unknown_model_details(std::string_view model) {
  std::string s = "Model not found: ";
  s.append(model);
  return s;
}

std::string ok_envelope(std::string_view request_id, std::string_view data_json) {
  std::string out;
  json::Writer w(&out);
  w.begin_object().field("success", true).field("request_id", request_id);
  w.field_raw("data", data_json).end_object();
  return out;
}

std::string error_envelope(std::string_view request_id, std::string_view code,
                           std::string_view details) {
  std::string out;
  json::Writer w(&out);
  w.begin_object().field("success", false).field("request_id", request_id);
  w.key("data").begin_object().field("code", code).field("details", details).end_object();
  w.end_object();
  return out;
}

std::string rate_limited_envelope(std::string_view request_id, int64_t num) {
  std::string out;
  json::Writer w(&out);
  w.begin_object().field("success", false).field("request_id", request_id);
  w.key("data").begin_object();
  w.field("code", kRateLimitedCode).field("details", kQuotaDetails);
  w.field("template", kQuotaTemplate).field("num", num);
  w.end_object().end_object();
  return out;
}

std::string waf_punish_json(std::string_view path) {
  // Shape of the capture in youssefvdel/qwengate#17.
  std::string url = "https://chat.qwen.ai:443/";
  url.append(path);
  url.append(
      "/_____tmd_____/"
      "punish?x5secdata=xd0a1b2c3d4e5f60718293a4b5c6d7e8f9mock__bx__chat.qwen.ai:443");
  url.append(path);
  url.append("&x5step=2&action=captcha&pureCaptcha=");
  std::string out =
      R"({"ret":["FAIL_SYS_USER_VALIDATE","RGV587_ERROR::SM::哎哟喂,被挤爆啦,请稍后重试"],"data":{"url":)";
  json::append_quoted(&out, url);
  out.append("}}");
  return out;
}

std::string waf_html_page() {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Verification</title>"
         "<script src=\"https://g.alicdn.com/AWSC/AWSC/awsc.js\"></script></head>\n"
         "<body><div id=\"aliyun_waf_aa\" class=\"punish\">Please complete the captcha "
         "verification to continue.</div><div id=\"nc_1_n1z\" data-action=\"captcha\"></div>"
         "</body></html>\n";
}

std::string waf_captcha_page() {
  std::string out =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>aliyun_waf_captcha</title>\n"
      "<script>window._config_ = {action: 'captcha', type: 'aliyun_waf_captcha'};</script>\n";
  // The real page inlines its challenge script: filler to its size.
  while (out.size() < 16 * 1024) {
    out +=
        "<script>/* mock aliyun_waf_captcha challenge script, inlined as on the site */</script>\n";
  }
  out +=
      "</head><body><div id=\"aliyun_waf_captcha\">Please complete the verification.</div>"
      "</body></html>\n";
  return out;
}

std::string parse_outage_envelope(std::string_view request_id, bool success) {
  std::string out;
  json::Writer w(&out);
  w.begin_object().field("success", success).field("request_id", request_id);
  w.key("data").begin_object().field("code", "Internal_Server_Error").end_object();
  w.end_object();
  return out;
}

}  // namespace qp::mock

#include "worker/retry_policy.h"

#include <catch2/catch.hpp>

using namespace qp::worker;  // NOLINT(google-build-using-namespace): test brevity

TEST_CASE("retry_cause: recognises the retryable upstream errors", "[retry]") {
  CHECK(
      retry_cause(
          R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"Internal error"}})") ==
      RetryCause::kInternalError);
  CHECK(retry_cause(R"({"error":{"code":"internal_error","message":"Internal error"}})") ==
        RetryCause::kInternalError);
  CHECK(
      retry_cause(
          R"({"success":false,"request_id":"r","data":{"code":"Bad_Request","details":"The chat is in progress!"}})") ==
      RetryCause::kChatInProgress);
  CHECK(
      retry_cause(
          R"({"success":false,"data":{"code":"Bad_Request","details":"Invalid input chat parent_id 1234 is not exist."}})") ==
      RetryCause::kParentMissing);
  CHECK(retry_cause(R"({"code":"Bad_Request","detail":"The chat is in progress!"})") ==
        RetryCause::kChatInProgress);
  CHECK(retry_cause(R"({"data":{"error":{"code":"x","message":"Internal Error"}}})") ==
        RetryCause::kInternalError);
}

TEST_CASE("retry_cause: everything else is not retried", "[retry]") {
  CHECK(retry_cause("") == RetryCause::kNone);
  CHECK(retry_cause("not json") == RetryCause::kNone);
  CHECK(retry_cause("<html>Internal error</html>") == RetryCause::kNone);
  CHECK(retry_cause("[1,2]") == RetryCause::kNone);
  CHECK(
      retry_cause(
          R"({"success":false,"data":{"code":"RateLimited","details":"You've reached the upper limit for today's usage.","num":6}})") ==
      RetryCause::kNone);
  CHECK(retry_cause(
            R"({"success":false,"data":{"code":"Unauthorized","details":"Token has expired"}})") ==
        RetryCause::kNone);
  CHECK(
      retry_cause(
          R"({"success":false,"data":{"code":"Bad_Request","details":"Content security warning"}})") ==
      RetryCause::kNone);
  // A tool the upstream does not know is not a missing chat.
  CHECK(
      retry_cause(
          R"({"success":false,"data":{"code":"Bad_Request","details":"Tool Read does not exists."}})") ==
      RetryCause::kNone);
  // A success envelope is never an error, whatever its text says.
  CHECK(retry_cause(R"({"success":true,"data":{"details":"Internal error"}})") ==
        RetryCause::kNone);
  // An ordinary stream event that quotes the words is not an error.
  CHECK(retry_cause(R"({"choices":[{"delta":{"content":"Internal error","phase":"answer"}}]})") ==
        RetryCause::kNone);
}

TEST_CASE("decide_retry: internal error retries once in a new chat", "[retry]") {
  RetryState st;
  RetryDecision d = decide_retry(RetryCause::kInternalError, false, &st);
  CHECK(d.action == RetryAction::kNewChat);
  CHECK(d.delay_ms == 0);
  CHECK(decide_retry(RetryCause::kInternalError, false, &st).action == RetryAction::kFail);
  CHECK(st.internal_error == 1);
  CHECK(st.total() == 1);
}

TEST_CASE("decide_retry: parent missing restarts once in a new chat", "[retry]") {
  RetryState st;
  CHECK(decide_retry(RetryCause::kParentMissing, false, &st).action == RetryAction::kNewChat);
  CHECK(decide_retry(RetryCause::kParentMissing, false, &st).action == RetryAction::kFail);
}

TEST_CASE("decide_retry: chat in progress stops and backs off 200/400/800 ms, 3 times", "[retry]") {
  RetryState st;
  std::vector<uint64_t> delays;
  for (int i = 0; i < 3; ++i) {
    RetryDecision d = decide_retry(RetryCause::kChatInProgress, false, &st);
    REQUIRE(d.action == RetryAction::kStopAndRetry);
    delays.push_back(d.delay_ms);
  }
  CHECK(delays == std::vector<uint64_t>{200, 400, 800});
  CHECK(decide_retry(RetryCause::kChatInProgress, false, &st).action == RetryAction::kFail);
  CHECK(st.in_progress == 3);
  // The budgets are independent.
  CHECK(decide_retry(RetryCause::kInternalError, false, &st).action == RetryAction::kNewChat);
}

TEST_CASE("decide_retry: nothing is retried once a chunk was forwarded", "[retry]") {
  for (RetryCause c : {RetryCause::kNone, RetryCause::kInternalError, RetryCause::kChatInProgress,
                       RetryCause::kParentMissing}) {
    RetryState st;
    CHECK(decide_retry(c, true, &st).action == RetryAction::kFail);
    CHECK(st.total() == 0);
  }
  RetryState st;
  CHECK(decide_retry(RetryCause::kNone, false, &st).action == RetryAction::kFail);
}

TEST_CASE("retry_cause_name", "[retry]") {
  CHECK(std::string(retry_cause_name(RetryCause::kChatInProgress)) == "chat_in_progress");
  CHECK(std::string(retry_cause_name(RetryCause::kNone)) == "none");
}

TEST_CASE("retry_cause: an unknown or foreign chat is retried once in a new chat", "[retry]") {
  // The unknown-chat error names chat_id, not parent_id.
  RetryCause c = retry_cause(
      R"({"success":false,"data":{"code":"Bad_Request","details":"Invalid input chat_id abc is not exist."}})");
  CHECK(c == RetryCause::kChatMissing);
  RetryState st;
  RetryDecision d = decide_retry(c, false, &st);
  CHECK(d.action == RetryAction::kNewChat);
  CHECK(decide_retry(c, false, &st).action == RetryAction::kFail);
  RetryState fresh;
  CHECK(decide_retry(c, /*forwarded=*/true, &fresh).action == RetryAction::kFail);
  CHECK(std::string(retry_cause_name(c)) == "chat_missing");
}

TEST_CASE("decide_retry: a failed upload is retried twice, with a growing delay", "[retry]") {
  RetryState st;
  RetryDecision d1 = decide_retry(RetryCause::kUploadFailed, false, &st);
  CHECK(d1.action == RetryAction::kRetryUpload);
  CHECK(d1.delay_ms == kUploadBaseDelayMs);
  RetryDecision d2 = decide_retry(RetryCause::kUploadFailed, false, &st);
  CHECK(d2.action == RetryAction::kRetryUpload);
  CHECK(d2.delay_ms == 2 * kUploadBaseDelayMs);
  CHECK(decide_retry(RetryCause::kUploadFailed, false, &st).action == RetryAction::kFail);
  CHECK(st.total() == 2);
  CHECK(std::string(retry_cause_name(RetryCause::kUploadFailed)) == "upload_failed");
}

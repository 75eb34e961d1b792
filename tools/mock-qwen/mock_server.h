// The mock chat.qwen.ai: HTTP routes (docs/mock-qwen.md, "Upstream API") plus
// the /__mock/ admin API, on one libuv loop. Owns the chat store, answer
// script, faults, config, counters/records and the stream runner. Loop thread
// only.
//
// Routes (docs/mock-qwen.md has the details):
//   GET  /api/models, /api/v2/models/            model list (embedded capture)
//   POST /api/v1/auths/signin, GET /api/v1/auths/
//   POST /api/v2/chats/new
//   POST /api/v2/chat/completions?chat_id=       SSE stream or stream:false JSON
//   POST /api/v2/chat/completions/stop?chat_id=
//   GET  /api/v2/chats/?page=, GET|DELETE /api/v2/chats/<id>
//   POST /api/v1/files/getstsToken, /api/v2/files/getstsToken (sts.cc)
//   POST /api/v2/files/parse                     {file_id} of a stored object (sts.cc)
//   POST /api/v2/files/parse/status              {file_id_list} → parsing / success (sts.cc)
//   GET  /api/v1/tasks/status/<id>               video task (media.h)
//   GET  /cdn/mock-media/<file>                  generated images / videos (media.h)
//   PUT  /<any other path>                        OSS stand-in: verifies the V1
//                                                 signature, stores (GET reads back)
//   /__mock/{state,reset,config,rules,hold,release,token,health}
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <uv.h>

#include "common/http/server.h"
#include "common/status.h"
#include "tools/mock-qwen/answer_script.h"
#include "tools/mock-qwen/chat_store.h"
#include "tools/mock-qwen/delay_queue.h"
#include "tools/mock-qwen/faults.h"
#include "tools/mock-qwen/ids.h"
#include "tools/mock-qwen/media.h"
#include "tools/mock-qwen/mock_config.h"
#include "tools/mock-qwen/mock_state.h"
#include "tools/mock-qwen/models.h"
#include "tools/mock-qwen/oss_store.h"
#include "tools/mock-qwen/stream_runner.h"
#include "tools/mock-qwen/users.h"

namespace qp::mock {

struct MockOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string jwt_secret = "mock-secret";
  int64_t token_ttl_s = 7 * 24 * 3600;  // sign-in tokens, like the real site
  MockConfig config;
  AnswerScript rules;
  UserDb users = UserDb::defaults();
  size_t max_chats = 50'000;
  size_t max_connections = 100'000;
};

class MockServer {
 public:
  MockServer(uv_loop_t* loop, MockOptions options);
  ~MockServer();
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  qp::Status listen();
  int port() const { return server_->port(); }
  // Stops accepting, aborts running streams, cancels pending timers. Safe twice.
  void close();

 private:
  struct Caller {
    bool guest = true;
    std::string owner;  // JWT id, or the guest owner id
  };

  void handle(http::Exchange ex);
  void route(http::Exchange& ex);

  // Upstream API.
  void handle_models(http::Exchange& ex);
  void handle_signin(http::Exchange& ex);
  void handle_auths(http::Exchange& ex);
  void handle_chats_new(http::Exchange& ex);
  void handle_completions(http::Exchange& ex);
  void handle_stop(http::Exchange& ex);
  void handle_chat_list(http::Exchange& ex);
  void handle_chat_get(http::Exchange& ex, std::string_view chat_id);
  void handle_chat_delete(http::Exchange& ex, std::string_view chat_id);
  void handle_sts(http::Exchange& ex);
  void handle_oss(http::Exchange& ex);
  void handle_file_parse(http::Exchange& ex);
  void handle_file_parse_status(http::Exchange& ex);
  // A fault on a file endpoint: true if one fired (and answered).
  bool file_fault(http::Exchange& ex, FaultEndpoint ep, const std::string& owner,
                  std::string_view rid);

  // Admin API.
  void handle_admin(http::Exchange& ex, std::string_view what);

  // Identifies the caller; on failure answers 401 and returns false.
  bool identify(http::Exchange& ex, Caller* caller);
  // Answers a rejecting fault. Returns the (code, details) recorded.
  std::pair<std::string, std::string> respond_fault(http::Exchange& ex, const Fault& fault,
                                                    std::string_view request_id);
  void on_stream_done(const StreamJob& job, StreamOutcome outcome);
  bool quota_exceeded(const std::string& owner, bool guest) const;

  uv_loop_t* loop_;
  MockOptions options_;
  MockConfig initial_config_;
  AnswerScript initial_rules_;
  MockConfig config_;
  AnswerScript rules_;
  FaultSet faults_;
  MockState state_;
  ChatStore chats_;
  IdGenerator ids_;
  const ModelCatalog& models_;
  std::unordered_map<std::string, int64_t> quota_used_;
  OssStore oss_;              // the OSS stand-in (sts.cc)
  int64_t oss_failures_ = 0;  // PUTs answered 500 so far under config_.oss_fail_puts
  // Declaration order matters: the server is destroyed first, and its
  // on_abort callbacks still find the runner and the delay queue alive.
  DelayQueue delays_;
  MediaMock media_{&ids_, &delays_};  // t2i / t2v (media.h)
  StreamRunner runner_;
  std::unique_ptr<http::Server> server_;
  bool closed_ = false;
};

}  // namespace qp::mock

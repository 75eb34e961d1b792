// Cuts the answer text at the first of the client's stop sequences (OpenAI
// `stop`). Pure: no I/O. Text deltas go in with feed() in arbitrary splits;
// the text that can no longer be part of a stop sequence comes out at once.
//
// Only the longest suffix of the text seen so far that is a proper prefix of
// some stop sequence is held back (so memory is bounded by the longest stop
// sequence), and it is released as soon as it can no longer match, or by
// finish() at the end of the answer. A stop sequence split across deltas is
// still found. Once one matched, the text from its start on is dropped,
// stopped() is true and further feeds emit nothing. The match that ends
// first wins (ties: the one that starts first), as for a model that checks
// its output after every token; so the result never depends on the split
// (with stops "bab" and "a", "bab…" is cut to "b").
//
// Matching is byte-wise on UTF-8: a held-back suffix starts where a stop
// sequence starts (a character boundary), so whole-character inputs give
// whole-character outputs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qp::worker {

class StopFilter {
 public:
  StopFilter() = default;
  // Empty sequences are ignored.
  explicit StopFilter(const std::vector<std::string>& stops);

  // True when there is at least one stop sequence (else feed() copies).
  bool active() const { return !stops_.empty(); }
  // Appends the releasable part of `text` (and of what was held back) to
  // *out. Returns true when a stop sequence matched (now or before).
  bool feed(std::string_view text, std::string* out);
  // End of the answer: appends what is still held back. No-op once stopped.
  void finish(std::string* out);
  bool stopped() const { return stopped_; }
  // The stop sequence that matched; empty until one did.
  const std::string& matched() const { return matched_; }
  size_t held() const { return held_.size(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;  // pending text: held-back suffix, then the new delta
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace qp::worker

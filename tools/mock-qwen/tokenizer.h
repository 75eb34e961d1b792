// Deterministic word tokenizer for scripted answers, shaped like the real
// stream (captures/completion-stream.sse): each token carries its leading
// spaces (" Cosmic"), punctuation runs are separate tokens (",", "**"), and
// newlines stick to the token before them (".\n\n"). Concatenating the tokens
// always gives back the input byte for byte; multi-byte UTF-8 characters are
// never split. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qp::mock {

// Appends the end offset of every token of `text` to *ends (token i spans
// [ends[i-1] or 0, ends[i])). An empty text has no tokens.
void tokenize(std::string_view text, std::vector<uint32_t>* ends);
// Convenience for tests and small inputs.
std::vector<std::string> tokenize_to_strings(std::string_view text);
// Number of tokens; used as the deterministic input_tokens of a prompt.
size_t count_tokens(std::string_view text);
// The longest prefix of at most max_bytes that does not cut a UTF-8 character.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

}  // namespace qp::mock

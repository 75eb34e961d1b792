// A reader for multipart/form-data request bodies (RFC 7578 on top of the
// multipart syntax of RFC 2046 section 5.1.1), for POST /v1/images/edits
// (docs/api.md "Images and video"). Pure, no I/O, no allocation besides the
// parts vector: every name, filename, type and body is a view into the
// request body, which must outlive the parts.
//
// Why hand-written: Debian 12 packages no C++ library that parses
// multipart/form-data from a buffer (the options are parts of larger
// frameworks, e.g. Boost.Beast has none, cpp-httplib and Drogon are not
// packaged for our use, and GMime/libsoup are C mail/HTTP stacks with their
// own I/O and copies); the syntax needed here is small and strictly bounded.
//
// What it accepts (anything else is kInvalidArgument with a message that
// says what is wrong and where, never a crash or hang; work is linear in the
// body size):
//   body      := "--" boundary padding CRLF part *(CRLF "--" boundary
//                padding CRLF part) CRLF "--" boundary "--" [padding]
//                [CRLF] (no preamble; no epilogue besides one CRLF)
//   padding   := *(SP / HT)    (RFC 2046 transport padding)
//   part      := *(header CRLF) CRLF content
//   header    := token ":" OWS value OWS; no folding, no control bytes
// Each part needs exactly one `Content-Disposition: form-data` header with
// a `name` parameter; `filename` is optional, `Content-Type` too (at most
// one of each). Parameter values are a quoted-string or a token; a quoted
// value is returned as written between the quotes (backslash escapes are
// not undone: RFC 7578 section 4.2 has senders percent-encode instead, as
// browsers and the openai SDK do). `filename*` and other parameters are
// ignored. Bounds: Limits (parts, header bytes per part); the body size is
// bounded by the HTTP layer (frontend.max_body_bytes).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::http::multipart {

struct Part {
  std::string_view name;          // Content-Disposition name
  std::string_view filename;      // Content-Disposition filename (may be empty)
  bool has_filename = false;      // a filename parameter was present (a file part)
  std::string_view content_type;  // the part's Content-Type, trimmed; empty if none
  std::string_view body;          // the content, exactly
};

struct Limits {
  size_t max_parts = 64;
  size_t max_header_bytes = 8192;  // per part, the header block with its CRLFs
};

// The longest boundary RFC 2046 allows.
inline constexpr size_t kMaxBoundary = 70;

// The boundary of a `multipart/form-data; boundary=…` Content-Type (the
// parameter quoted or not, in any order with others). kInvalidArgument if
// the type is another one, or the boundary is missing, given twice, empty,
// longer than kMaxBoundary or has bytes RFC 2046 does not allow.
Result<std::string_view> boundary_of(std::string_view content_type);

// Parses `body` into `*parts` (replaced). On failure `*parts` is empty.
Status parse(std::string_view body, std::string_view boundary, std::vector<Part>* parts,
             const Limits& limits = {});

}  // namespace qp::http::multipart

// Media helpers shared by the frontend (validating image and file inputs),
// the worker (uploading them) and the mock (describing what it received):
// type sniffing from the bytes, image dimensions, base64 and digests. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qp::media {

// What the bytes are, judged by their content only (never by a label).
enum class Type : uint8_t { kUnknown, kPng, kJpeg, kWebp, kGif, kPdf, kText };

Type sniff(std::string_view bytes);
// "image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf",
// "text/plain"; "application/octet-stream" for kUnknown.
std::string_view mime_of(Type t);
// The Type a MIME name stands for (case-insensitive; "image/jpg" too);
// kUnknown for any other.
Type type_of_mime(std::string_view mime);
bool is_image(Type t);
// A short file extension without the dot ("png", "pdf", "txt", "bin").
std::string_view extension_of(Type t);

// Pixel dimensions read from the image header (PNG IHDR, JPEG SOFn, WebP
// VP8/VP8L/VP8X, GIF logical screen). False if the header is not readable.
bool image_size(std::string_view bytes, Type t, uint32_t* width, uint32_t* height);

// RFC 4648 base64 (standard alphabet; the URL-safe one is accepted too),
// '=' padding optional, ASCII whitespace ignored. False on any other byte
// or a truncated quantum. *out is replaced.
bool base64_decode(std::string_view in, std::string* out);
// The decoded size of `in` (an upper bound when it holds whitespace), for
// checking a limit before decoding.
size_t base64_decoded_size(std::string_view in);
std::string base64_encode(std::string_view bytes);

// A `data:[<mime>][;base64],<payload>` URL split into its parts; false if
// `url` is not a data URL or not base64-encoded.
struct DataUrl {
  std::string_view mime;
  std::string_view payload;  // still base64
};
bool parse_data_url(std::string_view url, DataUrl* out);

// Lower-case hex SHA-256 of bytes (OpenSSL).
std::string sha256_hex(std::string_view bytes);

}  // namespace qp::media

#include "common/media/media.h"

#include <array>
#include <cstring>

#include <openssl/evp.h>

#include "common/strings.h"

namespace qp::media {
namespace {

bool starts(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

uint32_t be16(std::string_view b, size_t i) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(b[i])) << 8) |
         static_cast<unsigned char>(b[i + 1]);
}
uint32_t be32(std::string_view b, size_t i) { return (be16(b, i) << 16) | be16(b, i + 2); }
uint32_t le16(std::string_view b, size_t i) {
  return static_cast<unsigned char>(b[i]) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[i + 1])) << 8);
}
uint32_t le24(std::string_view b, size_t i) {
  return le16(b, i) | (static_cast<uint32_t>(static_cast<unsigned char>(b[i + 2])) << 16);
}

// Text: valid UTF-8 without NUL and with few other control characters.
bool looks_like_text(std::string_view b) {
  if (b.empty()) return false;
  size_t controls = 0;
  for (size_t i = 0; i < b.size();) {
    auto c = static_cast<unsigned char>(b[i]);
    if (c < 0x80) {
      if (c == 0) return false;
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') ++controls;
      ++i;
      continue;
    }
    size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + n > b.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(b[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return controls * 100 <= b.size();  // at most 1 % stray control bytes
}

bool png_size(std::string_view b, uint32_t* w, uint32_t* h) {
  // Signature (8), chunk length (4), "IHDR" (4), width (4), height (4).
  if (b.size() < 24 || b.substr(12, 4) != "IHDR") return false;
  *w = be32(b, 16);
  *h = be32(b, 20);
  return true;
}

bool jpeg_size(std::string_view b, uint32_t* w, uint32_t* h) {
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return false;
    auto marker = static_cast<unsigned char>(b[i + 1]);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;  // no length
      continue;
    }
    uint32_t len = be16(b, i + 2);
    if (len < 2) return false;
    bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > b.size()) return false;
      *h = be16(b, i + 5);
      *w = be16(b, i + 7);
      return true;
    }
    if (marker == 0xD9 || marker == 0xDA) return false;  // end or scan before a frame header
    i += 2 + len;
  }
  return false;
}

bool webp_size(std::string_view b, uint32_t* w, uint32_t* h) {
  if (b.size() < 30) return false;
  std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    // Frame tag (3), start code 9d 01 2a (3), then 14-bit width and height.
    if (b.substr(23, 3) != std::string_view("\x9d\x01\x2a", 3)) return false;
    *w = le16(b, 26) & 0x3FFF;
    *h = le16(b, 28) & 0x3FFF;
    return true;
  }
  if (chunk == "VP8L") {
    if (static_cast<unsigned char>(b[20]) != 0x2F) return false;
    uint32_t bits = le16(b, 21) | (le16(b, 23) << 16);
    *w = (bits & 0x3FFF) + 1;
    *h = ((bits >> 14) & 0x3FFF) + 1;
    return true;
  }
  if (chunk == "VP8X") {
    *w = le24(b, 24) + 1;
    *h = le24(b, 27) + 1;
    return true;
  }
  return false;
}

int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

Type sniff(std::string_view b) {
  if (starts(b, "\x89PNG\r\n\x1a\n")) return Type::kPng;
  if (starts(b, "\xFF\xD8\xFF")) return Type::kJpeg;
  if (b.size() >= 12 && starts(b, "RIFF") && b.substr(8, 4) == "WEBP") return Type::kWebp;
  if (starts(b, "GIF87a") || starts(b, "GIF89a")) return Type::kGif;
  if (starts(b, "%PDF-")) return Type::kPdf;
  if (looks_like_text(b.substr(0, 64 * 1024))) return Type::kText;
  return Type::kUnknown;
}

std::string_view mime_of(Type t) {
  switch (t) {
    case Type::kPng:
      return "image/png";
    case Type::kJpeg:
      return "image/jpeg";
    case Type::kWebp:
      return "image/webp";
    case Type::kGif:
      return "image/gif";
    case Type::kPdf:
      return "application/pdf";
    case Type::kText:
      return "text/plain";
    case Type::kUnknown:
      break;
  }
  return "application/octet-stream";
}

Type type_of_mime(std::string_view mime) {
  for (Type t : {Type::kPng, Type::kJpeg, Type::kWebp, Type::kGif, Type::kPdf, Type::kText}) {
    if (strings::iequals(mime, mime_of(t))) return t;
  }
  if (strings::iequals(mime, "image/jpg")) return Type::kJpeg;
  return Type::kUnknown;
}

bool is_image(Type t) {
  return t == Type::kPng || t == Type::kJpeg || t == Type::kWebp || t == Type::kGif;
}

std::string_view extension_of(Type t) {
  switch (t) {
    case Type::kPng:
      return "png";
    case Type::kJpeg:
      return "jpg";
    case Type::kWebp:
      return "webp";
    case Type::kGif:
      return "gif";
    case Type::kPdf:
      return "pdf";
    case Type::kText:
      return "txt";
    case Type::kUnknown:
      break;
  }
  return "bin";
}

bool image_size(std::string_view b, Type t, uint32_t* width, uint32_t* height) {
  uint32_t w = 0, h = 0;
  bool ok = false;
  switch (t) {
    case Type::kPng:
      ok = png_size(b, &w, &h);
      break;
    case Type::kJpeg:
      ok = jpeg_size(b, &w, &h);
      break;
    case Type::kWebp:
      ok = webp_size(b, &w, &h);
      break;
    case Type::kGif:
      if (b.size() >= 10) {
        w = le16(b, 6);
        h = le16(b, 8);
        ok = true;
      }
      break;
    default:
      break;
  }
  if (!ok || w == 0 || h == 0) return false;
  *width = w;
  *height = h;
  return true;
}

size_t base64_decoded_size(std::string_view in) { return (in.size() / 4 + 1) * 3; }

bool base64_decode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(base64_decoded_size(in));
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0, symbols = 0;
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad > 0) return false;  // data after padding
    int v = b64_value(c);
    if (v < 0) return false;
    ++symbols;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (symbols % 4 == 1 || pad > 2) return false;  // a lone symbol cannot encode a byte
  if (pad > 0 && (symbols + pad) % 4 != 0) return false;
  return true;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlpha[(v >> 18) & 63]);
    out.push_back(kAlpha[(v >> 12) & 63]);
    out.push_back(kAlpha[(v >> 6) & 63]);
    out.push_back(kAlpha[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlpha[(v >> 18) & 63]);
    out.push_back(kAlpha[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlpha[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool parse_data_url(std::string_view url, DataUrl* out) {
  if (url.size() < 5 || !strings::iequals(url.substr(0, 5), "data:")) return false;
  size_t comma = url.find(',');
  if (comma == std::string_view::npos) return false;
  std::string_view meta = url.substr(5, comma - 5);
  constexpr std::string_view kB64 = ";base64";
  if (meta.size() < kB64.size() || !strings::iequals(meta.substr(meta.size() - kB64.size()), kB64))
    return false;
  meta.remove_suffix(kB64.size());
  size_t semi = meta.find(';');  // parameters such as ;charset=… are ignored
  out->mime = meta.substr(0, semi);
  out->payload = url.substr(comma + 1);
  return true;
}

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md.data(), &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace qp::media

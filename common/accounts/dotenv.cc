#include "common/accounts/dotenv.h"

namespace qp::accounts {
namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool valid_key(std::string_view k) {
  if (k.empty()) return false;
  for (size_t i = 0; i < k.size(); ++i) {
    char c = k[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9') || (i > 0 && c == '.');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<DotEnv> parse_dotenv(std::string_view text, const std::string& origin) {
  DotEnv out;
  size_t pos = 0;
  int line_no = 0;
  auto bad = [&](const std::string& what) {
    return error(Code::kInvalidArgument,
                 origin + ": line " + std::to_string(line_no) + ": " + what);
  };
  while (pos < text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim(text.substr(pos, nl - pos));
    size_t next = nl + 1;
    if (line.empty() || line.front() == '#') {
      pos = next;
      continue;
    }
    if (line.substr(0, 7) == "export ") line = trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return bad("expected KEY=value");
    std::string_view key = trim(line.substr(0, eq));
    if (!valid_key(key)) return bad("invalid variable name");
    std::string_view raw = trim(line.substr(eq + 1));
    std::string value;
    if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
      char q = raw.front();
      int quote_line = line_no;
      // A quoted value may span lines: find the closing quote in the whole text.
      size_t start = static_cast<size_t>(raw.data() - text.data()) + 1;
      size_t i = start;
      bool closed = false;
      for (; i < text.size(); ++i) {
        char c = text[i];
        if (q == '"' && c == '\\' && i + 1 < text.size()) {
          char e = text[++i];
          switch (e) {
            case 'n':
              value.push_back('\n');
              break;
            case 'r':
              value.push_back('\r');
              break;
            case 't':
              value.push_back('\t');
              break;
            default:
              value.push_back(e);
              break;
          }
          continue;
        }
        if (c == q) {
          closed = true;
          break;
        }
        if (c == '\n') ++line_no;
        value.push_back(c);
      }
      if (!closed) {
        line_no = quote_line;
        return bad("unterminated quoted value");
      }
      // After the closing quote: only spaces or a comment up to the end of the line.
      size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos) eol = text.size();
      std::string_view tail = trim(text.substr(i + 1, eol - i - 1));
      if (!tail.empty() && tail.front() != '#')
        return bad("unexpected text after the closing quote");
      next = eol + 1;
    } else {
      size_t hash = raw.find(" #");
      if (hash == std::string_view::npos) hash = raw.find("\t#");
      if (hash != std::string_view::npos) raw = trim(raw.substr(0, hash));
      value = std::string(raw);
    }
    out[std::string(key)] = std::move(value);
    pos = next;
  }
  return out;
}

}  // namespace qp::accounts

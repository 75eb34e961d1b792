#include "tools/account/shell_words.h"

#include <cstdint>

namespace qp::account_tool {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Status bad(const std::string& what, size_t pos) {
  return error(Code::kInvalidArgument, what + " (at character " + std::to_string(pos + 1) + ")");
}

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x110000) {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Collects words; a word exists once any character (even an empty quoted
// string) was seen for it.
class Words {
 public:
  void add(char c) {
    cur_.push_back(c);
    open_ = true;
  }
  void add(std::string_view s) {
    cur_.append(s);
    open_ = true;
  }
  void touch() { open_ = true; }
  void end() {
    if (open_) words_.push_back(std::move(cur_));
    cur_.clear();
    open_ = false;
  }
  bool open() const { return open_; }
  std::vector<std::string> take() {
    end();
    return std::move(words_);
  }

 private:
  std::vector<std::string> words_;
  std::string cur_;
  bool open_ = false;
};

// Reads $'…' starting after the opening quote; returns the index of the closing quote.
Result<size_t> ansi_c(std::string_view t, size_t i, Words* w) {
  std::string out;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\'') {
      w->add(out);
      return i;
    }
    if (c != '\\' || i + 1 >= t.size()) {
      out.push_back(c);
      continue;
    }
    char e = t[++i];
    switch (e) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'e':
      case 'E':
        out.push_back('\x1b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
      case 'u':
      case 'U': {
        size_t max = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        size_t n = 0;
        while (n < max && i + 1 < t.size() && hex_value(t[i + 1]) >= 0) {
          v = v * 16 + static_cast<uint32_t>(hex_value(t[++i]));
          ++n;
        }
        if (n == 0) return bad("bad \\" + std::string(1, e) + " escape in $'...'", i);
        if (e == 'x') {
          out.push_back(static_cast<char>(v));
        } else {
          append_utf8(&out, v);
        }
        break;
      }
      case 'c':
        if (i + 1 >= t.size()) return bad("bad \\c escape in $'...'", i);
        out.push_back(static_cast<char>(t[++i] & 0x1f));
        break;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (int n = 1; n < 3 && i + 1 < t.size() && t[i + 1] >= '0' && t[i + 1] <= '7'; ++n) {
            v = v * 8 + static_cast<uint32_t>(t[++i] - '0');
          }
          out.push_back(static_cast<char>(v & 0xff));
        } else {
          out.push_back(e);  // \\ \' \" \? and anything else: the character itself
        }
    }
  }
  return bad("unterminated $'...' quote", t.size() - 1);
}

Result<std::vector<std::string>> split_posix(std::string_view t) {
  Words w;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (is_space(c)) {
      w.end();
    } else if (c == '\\') {
      if (i + 1 >= t.size()) break;  // a trailing backslash continues into nothing
      char n = t[i + 1];
      if (n == '\n') {
        ++i;
      } else if (n == '\r' && i + 2 < t.size() && t[i + 2] == '\n') {
        i += 2;
      } else {
        w.add(n);
        ++i;
      }
    } else if (c == '\'') {
      size_t end = t.find('\'', i + 1);
      if (end == std::string_view::npos) return bad("unterminated '...' quote", i);
      w.add(t.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '$' && i + 1 < t.size() && t[i + 1] == '\'') {
      auto end = ansi_c(t, i + 2, &w);
      if (!end) return end.error();
      i = end.value();
    } else if (c == '"') {
      size_t j = i + 1;
      std::string out;
      bool closed = false;
      for (; j < t.size(); ++j) {
        char d = t[j];
        if (d == '"') {
          closed = true;
          break;
        }
        if (d == '\\' && j + 1 < t.size()) {
          char n = t[j + 1];
          if (n == '\n') {
            ++j;
            continue;
          }
          if (n == '$' || n == '`' || n == '"' || n == '\\') {
            out.push_back(n);
            ++j;
            continue;
          }
        }
        out.push_back(d);
      }
      if (!closed) return bad("unterminated \"...\" quote", i);
      w.add(out);
      i = j;
    } else if (c == '#' && !w.open()) {
      size_t nl = t.find('\n', i);
      if (nl == std::string_view::npos) break;
      i = nl;
      w.end();
    } else {
      w.add(c);
    }
  }
  return w.take();
}

// cmd.exe's pass: ^X is X, ^ before a line break joins the lines (and the
// character after the line break, even another line break, is literal).
// Carets are removed inside "…" too: Firefox relies on closing and reopening
// quotes around its ^-escapes, and no browser emits a literal caret there.
std::string cmd_unescape(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c != '^') {
      out.push_back(c);
      continue;
    }
    if (i + 1 >= t.size()) break;
    size_t j = i + 1;
    if (t[j] == '\r' && j + 1 < t.size() && t[j + 1] == '\n') ++j;
    if (t[j] == '\n') {
      // Continuation. A line break right after it is an escaped, literal one.
      size_t k = j + 1;
      if (k < t.size() && t[k] == '\r' && k + 1 < t.size() && t[k + 1] == '\n') ++k;
      if (k < t.size() && t[k] == '\n') {
        out.push_back('\n');
        j = k;
      }
      i = j;
      continue;
    }
    out.push_back(t[j]);
    i = j;
  }
  return out;
}

// The MS C runtime's argv rules (CommandLineToArgvW, post-2008 "" rule).
Result<std::vector<std::string>> split_crt(std::string_view t) {
  Words w;
  bool quoted = false;
  size_t quote_at = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\\') {
      size_t n = 0;
      while (i + n < t.size() && t[i + n] == '\\') ++n;
      if (i + n < t.size() && t[i + n] == '"') {
        w.add(std::string(n / 2, '\\'));
        if (n % 2 == 1) {
          w.add('"');
          i += n;
        } else {
          i += n - 1;  // the quote is handled next
        }
      } else {
        w.add(std::string(n, '\\'));
        i += n - 1;
      }
    } else if (c == '"') {
      if (quoted && i + 1 < t.size() && t[i + 1] == '"') {
        w.add('"');
        ++i;
      } else {
        quoted = !quoted;
        quote_at = i;
        w.touch();
      }
    } else if (is_space(c) && !quoted) {
      w.end();
    } else {
      w.add(c);
    }
  }
  if (quoted) return bad("unterminated \"...\" quote", quote_at);
  return w.take();
}

Result<std::vector<std::string>> split_powershell(std::string_view t) {
  Words w;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (is_space(c)) {
      w.end();
    } else if (c == '`') {
      if (i + 1 >= t.size()) break;
      char n = t[i + 1];
      if (n == '\n') {
        ++i;
      } else if (n == '\r' && i + 2 < t.size() && t[i + 2] == '\n') {
        i += 2;
      } else {
        w.add(n);
        ++i;
      }
    } else if (c == '\'') {
      std::string out;
      size_t j = i + 1;
      bool closed = false;
      for (; j < t.size(); ++j) {
        if (t[j] == '\'') {
          if (j + 1 < t.size() && t[j + 1] == '\'') {
            out.push_back('\'');
            ++j;
            continue;
          }
          closed = true;
          break;
        }
        out.push_back(t[j]);
      }
      if (!closed) return bad("unterminated '...' quote", i);
      w.add(out);
      i = j;
    } else if (c == '"') {
      std::string out;
      size_t j = i + 1;
      bool closed = false;
      for (; j < t.size(); ++j) {
        char d = t[j];
        if (d == '`' && j + 1 < t.size()) {
          char e = t[++j];
          switch (e) {
            case 'n':
              out.push_back('\n');
              break;
            case 'r':
              out.push_back('\r');
              break;
            case 't':
              out.push_back('\t');
              break;
            case '0':
              out.push_back('\0');
              break;
            default:
              out.push_back(e);
              break;
          }
          continue;
        }
        if (d == '"') {
          if (j + 1 < t.size() && t[j + 1] == '"') {
            out.push_back('"');
            ++j;
            continue;
          }
          closed = true;
          break;
        }
        out.push_back(d);
      }
      if (!closed) return bad("unterminated \"...\" quote", i);
      w.add(out);
      i = j;
    } else {
      w.add(c);
    }
  }
  return w.take();
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

ShellDialect detect_dialect(std::string_view text) {
  if (text.find("^\"") != std::string_view::npos) return ShellDialect::kCmd;
  bool caret_eol = false;
  bool backtick_eol = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim_right(text.substr(pos, nl - pos));
    if (!line.empty() && line.back() == '^') caret_eol = true;
    if (!line.empty() && line.back() == '`') backtick_eol = true;
    pos = nl + 1;
  }
  if (backtick_eol || text.find("Invoke-WebRequest") != std::string_view::npos ||
      text.find("Invoke-RestMethod") != std::string_view::npos) {
    return ShellDialect::kPowerShell;
  }
  if (caret_eol) return ShellDialect::kCmd;
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos && text.substr(start, 9) == "curl.exe ") {
    // curl.exe "…" is cmd; curl.exe '…' only makes sense in PowerShell.
    size_t q = text.find_first_of("'\"", start);
    return q != std::string_view::npos && text[q] == '\'' ? ShellDialect::kPowerShell
                                                          : ShellDialect::kCmd;
  }
  return ShellDialect::kPosix;
}

std::string_view dialect_name(ShellDialect dialect) {
  switch (dialect) {
    case ShellDialect::kPosix:
      return "bash";
    case ShellDialect::kCmd:
      return "cmd";
    case ShellDialect::kPowerShell:
      return "PowerShell";
  }
  return "?";
}

Result<std::vector<std::string>> split_words(std::string_view text, ShellDialect dialect) {
  switch (dialect) {
    case ShellDialect::kPosix:
      return split_posix(text);
    case ShellDialect::kCmd:
      return split_crt(cmd_unescape(text));
    case ShellDialect::kPowerShell:
      return split_powershell(text);
  }
  return error(Code::kInternal, "unknown shell dialect");
}

}  // namespace qp::account_tool

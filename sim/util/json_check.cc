#include "sim/util/json_check.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/util/error.h"

namespace gpuslice {
namespace {

struct Position {
  long line = 1, column = 1;
};

Position PositionOf(std::string_view text, size_t offset) {
  Position p;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

std::string Where(const std::string& label, std::string_view text, size_t offset) {
  const Position p = PositionOf(text, offset);
  return label + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
}

struct Frame {
  bool object = false;
  bool expect_key = false;                         // objects: the next string is a key
  std::unordered_map<std::string, size_t> keys;    // decoded key -> offset of its first use
};

bool IsDelimiter(char c) {
  return c == ',' || c == ']' || c == '}' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

void CheckJsonText(std::string_view text, const std::string& label) {
  std::vector<Frame> stack;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    switch (c) {
      case ' ': case '\t': case '\n': case '\r':
        ++i;
        break;
      case '{':
      case '[':
        if (static_cast<int>(stack.size()) >= kMaxJsonDepth) {
          throw InputError(Where(label, text, i) + ": nested deeper than " + std::to_string(kMaxJsonDepth) +
                           " levels");
        }
        stack.push_back(Frame{c == '{', c == '{', {}});
        ++i;
        break;
      case '}':
      case ']':
        if (stack.empty()) return;  // the parser reports it
        stack.pop_back();
        ++i;
        break;
      case ',':
        if (!stack.empty() && stack.back().object) stack.back().expect_key = true;
        ++i;
        break;
      case ':':
        if (!stack.empty()) stack.back().expect_key = false;
        ++i;
        break;
      case '"': {
        const size_t start = i++;
        bool escaped = false;
        while (i < n && text[i] != '"') {
          if (text[i] == '\\') {
            escaped = true;
            ++i;
          }
          ++i;
        }
        if (i >= n) return;  // unterminated: the parser reports it
        ++i;
        if (stack.empty() || !stack.back().expect_key) break;
        std::string key(text.substr(start + 1, i - start - 2));
        if (escaped) {
          nlohmann::json decoded = nlohmann::json::parse(text.substr(start, i - start), nullptr, false);
          if (!decoded.is_string()) return;  // a bad escape: the parser reports it
          key = decoded.get<std::string>();
        }
        auto [it, inserted] = stack.back().keys.try_emplace(std::move(key), start);
        if (!inserted) {
          const Position first = PositionOf(text, it->second);
          throw InputError(Where(label, text, start) + ": duplicate key \"" + it->first +
                           "\" (first at line " + std::to_string(first.line) + ", column " +
                           std::to_string(first.column) + ")");
        }
        break;
      }
      default: {
        const size_t start = i;
        while (i < n && !IsDelimiter(text[i]) && text[i] != '"' && text[i] != '{' && text[i] != '[') ++i;
        if (c == '-' || (c >= '0' && c <= '9')) {
          const std::string token(text.substr(start, i - start));
          errno = 0;
          char* end = nullptr;
          const double value = std::strtod(token.c_str(), &end);
          if (end == token.c_str() + token.size() && std::isinf(value)) {
            throw InputError(Where(label, text, start) + ": number " + token.substr(0, 40) +
                             " is out of range (a double holds at most 1.8e308)");
          }
        }
        if (i == start) return;  // a character no JSON token starts with: the parser reports it
        break;
      }
    }
  }
}

}  // namespace gpuslice

#include "sim/util/json_check.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
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

namespace {

// A SAX handler that builds an ordered_json appending members without nlohmann's
// duplicate search (CheckJsonText has refused duplicates). The stack holds the open
// containers; a container's parent never grows while it is open, so the pointers hold.
class OrderedBuilder {
 public:
  using Json = nlohmann::ordered_json;
  using Members = std::vector<std::pair<const std::string, Json>>;

  explicit OrderedBuilder(Json* root) : root_(root) {}

  bool null() { return Put(Json(nullptr)); }
  bool boolean(bool v) { return Put(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return Put(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return Put(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t&) { return Put(Json(v)); }
  bool string(Json::string_t& v) { return Put(Json(std::move(v))); }
  bool binary(Json::binary_t& v) { return Put(Json::binary(std::move(v))); }
  bool start_object(std::size_t) {
    stack_.push_back(Place(Json::object()));
    return true;
  }
  bool key(Json::string_t& k) {
    Members& members = *stack_.back()->get_ptr<Json::object_t*>();
    members.emplace_back(std::move(k), nullptr);
    member_ = &members.back().second;
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    stack_.push_back(Place(Json::array()));
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    if (e.id / 100 == 1) throw *static_cast<const nlohmann::detail::parse_error*>(&e);
    throw std::runtime_error(e.what());
  }

 private:
  // Where the next value goes: the root, the member just keyed, or the end of an array.
  Json* Place(Json&& v) {
    if (stack_.empty()) {
      *root_ = std::move(v);
      return root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.get_ptr<Json::array_t*>()->push_back(std::move(v));
      return &parent.get_ptr<Json::array_t*>()->back();
    }
    *member_ = std::move(v);
    return member_;
  }
  bool Put(Json&& v) {
    Place(std::move(v));
    return true;
  }

  Json* root_;
  std::vector<Json*> stack_;
  Json* member_ = nullptr;
};

}  // namespace

nlohmann::ordered_json ParseOrderedJsonFast(const std::string& text) {
  nlohmann::ordered_json root;
  OrderedBuilder builder(&root);
  nlohmann::ordered_json::sax_parse(text, &builder);
  return root;
}

}  // namespace gpuslice

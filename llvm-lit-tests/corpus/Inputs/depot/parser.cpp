// A small arithmetic evaluator: recursive descent, errors as exceptions,
// and a guard object that tracks the nesting depth.
#include <stdexcept>
#include <string>

#include "depot.h"

namespace {

int g_depth = 0;
int g_max_depth = 0;

struct DepthGuard {
  DepthGuard() {
    ++g_depth;
    if (g_depth > g_max_depth)
      g_max_depth = g_depth;
  }
  ~DepthGuard() { --g_depth; }
};

class ParseError : public std::runtime_error {
public:
  ParseError(const std::string &what, std::size_t at) : std::runtime_error(what), at_(at) {}
  std::size_t at() const { return at_; }

private:
  std::size_t at_;
};

class Parser {
public:
  explicit Parser(const std::string &text) : text_(text) {}

  long parse() {
    long v = expression();
    skip_spaces();
    if (pos_ != text_.size())
      throw ParseError("unexpected character", pos_);
    return v;
  }

private:
  void skip_spaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ')
      ++pos_;
  }

  long expression() {
    DepthGuard guard;
    long v = term();
    for (;;) {
      skip_spaces();
      if (pos_ < text_.size() && text_[pos_] == '+') {
        ++pos_;
        v += term();
      } else if (pos_ < text_.size() && text_[pos_] == '-') {
        ++pos_;
        v -= term();
      } else {
        return v;
      }
    }
  }

  long term() {
    long v = factor();
    for (;;) {
      skip_spaces();
      if (pos_ < text_.size() && text_[pos_] == '*') {
        ++pos_;
        v *= factor();
      } else if (pos_ < text_.size() && text_[pos_] == '/') {
        ++pos_;
        long d = factor();
        if (d == 0)
          throw ParseError("division by zero", pos_);
        v /= d;
      } else {
        return v;
      }
    }
  }

  long factor() {
    skip_spaces();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      long v = expression();
      skip_spaces();
      if (pos_ >= text_.size() || text_[pos_] != ')')
        throw ParseError("expected )", pos_);
      ++pos_;
      return v;
    }
    if (pos_ < text_.size() && text_[pos_] == '-') {
      ++pos_;
      return -factor();
    }
    return number();
  }

  long number() {
    skip_spaces();
    std::size_t start = pos_;
    long v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
      v = v * 10 + (text_[pos_++] - '0');
    if (pos_ == start)
      throw ParseError("expected a number", pos_);
    return v;
  }

  std::string text_;
  std::size_t pos_ = 0;
};

} // namespace

static std::string evaluate(const std::string &text) {
  try {
    Parser p(text);
    return std::to_string(p.parse());
  } catch (const ParseError &e) {
    return std::string("error: ") + e.what() + " at " + std::to_string(e.at());
  }
}

static long checked_divide(long a, long b) {
  if (b == 0)
    throw std::domain_error("zero divisor");
  return a / b;
}

static std::string ratio(long a, long b) {
  std::string label = "ratio";
  return label + "=" + std::to_string(checked_divide(a, b));
}

static std::string guarded_ratio(long a, long b) {
  try {
    return ratio(a, b);
  } catch (const std::exception &e) {
    return std::string("caught ") + e.what();
  }
}

void report_parser() {
  probe("parser.sum", evaluate("1 + 2 * 3"));
  probe("parser.nested", evaluate("((2 + 3) * (4 - 1)) / 5"));
  probe("parser.unbalanced", evaluate("2 * (3 + 4"));
  probe("parser.divzero", evaluate("8 / (2 - 2)"));
  probe("parser.depth", g_depth == 0 ? fmt("balanced, max %d", g_max_depth) : "unbalanced");
  probe("parser.ratio", guarded_ratio(17, 5));
  probe("parser.ratio0", guarded_ratio(17, 0));
}

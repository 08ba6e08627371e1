// A header-only JSON library in the style of the popular single-header ones:
// a value type over std::variant-like storage, a parser templated on its
// input, a serialiser templated on its output, and many small inline member
// functions. Written for the all-hot benchmark (bench/allhot/).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace minijson {

enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object };

class Value {
public:
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;

  Value() = default;
  explicit Value(bool b) : kind_(Kind::Bool), num_(b ? 1 : 0) {}
  explicit Value(double d) : kind_(Kind::Number), num_(d) {}
  explicit Value(std::string s) : kind_(Kind::String), str_(std::move(s)) {}
  static Value array() { Value v; v.kind_ = Kind::Array; return v; }
  static Value object() { Value v; v.kind_ = Kind::Object; return v; }

  Kind kind() const { return kind_; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }
  double number() const { return num_; }
  bool boolean() const { return num_ != 0; }
  const std::string &string() const { return str_; }
  const Array &items() const { return arr_; }
  const Object &members() const { return obj_; }
  std::size_t size() const { return is_array() ? arr_.size() : obj_.size(); }

  void push_back(Value v) { arr_.push_back(std::move(v)); }
  void set(std::string k, Value v) { obj_.emplace_back(std::move(k), std::move(v)); }
  const Value *find(const std::string &k) const {
    for (const auto &m : obj_)
      if (m.first == k) return &m.second;
    return nullptr;
  }

private:
  Kind kind_ = Kind::Null;
  double num_ = 0;
  std::string str_;
  Array arr_;
  Object obj_;
};

/// Input over a contiguous buffer.
class StringInput {
public:
  explicit StringInput(const std::string &s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool done() const { return p_ == end_; }
  char peek() const { return p_ == end_ ? '\0' : *p_; }
  char get() { return p_ == end_ ? '\0' : *p_++; }
  void skip_ws() { while (!done() && is_ws(*p_)) ++p_; }
  static bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

private:
  const char *p_;
  const char *end_;
};

template <class Input> class Parser {
public:
  explicit Parser(Input in) : in_(std::move(in)) {}
  bool ok() const { return ok_; }

  Value parse() {
    in_.skip_ws();
    switch (in_.peek()) {
    case '{': return parse_object();
    case '[': return parse_array();
    case '"': return Value(parse_string());
    case 't': expect("true"); return Value(true);
    case 'f': expect("false"); return Value(false);
    case 'n': expect("null"); return Value();
    default: return Value(parse_number());
    }
  }

private:
  void fail() { ok_ = false; }
  void expect(const char *word) {
    for (const char *w = word; *w; ++w)
      if (in_.get() != *w) fail();
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static int digit(char c) { return c - '0'; }

  double parse_number() {
    bool neg = false;
    if (in_.peek() == '-') { neg = true; in_.get(); }
    double v = 0;
    while (is_digit(in_.peek())) v = v * 10 + digit(in_.get());
    if (in_.peek() == '.') {
      in_.get();
      double scale = 0.1;
      while (is_digit(in_.peek())) { v += scale * digit(in_.get()); scale *= 0.1; }
    }
    return neg ? -v : v;
  }

  std::string parse_string() {
    std::string s;
    in_.get();
    for (char c = in_.get(); c != '"'; c = in_.get()) {
      if (c == '\0') { fail(); break; }
      if (c == '\\') c = unescape(in_.get());
      s.push_back(c);
    }
    return s;
  }
  static char unescape(char c) {
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    default: return c;
    }
  }

  Value parse_array() {
    Value a = Value::array();
    in_.get();
    in_.skip_ws();
    if (in_.peek() == ']') { in_.get(); return a; }
    for (;;) {
      a.push_back(parse());
      in_.skip_ws();
      char c = in_.get();
      if (c == ']') break;
      if (c != ',') { fail(); break; }
    }
    return a;
  }

  Value parse_object() {
    Value o = Value::object();
    in_.get();
    in_.skip_ws();
    if (in_.peek() == '}') { in_.get(); return o; }
    for (;;) {
      in_.skip_ws();
      std::string k = parse_string();
      in_.skip_ws();
      if (in_.get() != ':') { fail(); break; }
      o.set(std::move(k), parse());
      in_.skip_ws();
      char c = in_.get();
      if (c == '}') break;
      if (c != ',') { fail(); break; }
    }
    return o;
  }

  Input in_;
  bool ok_ = true;
};

/// Output into a growing string.
class StringOutput {
public:
  void put(char c) { s_.push_back(c); }
  void write(const std::string &s) { s_.append(s); }
  std::string &str() { return s_; }

private:
  std::string s_;
};

template <class Output> class Writer {
public:
  explicit Writer(Output &out) : out_(out) {}
  void write(const Value &v) {
    switch (v.kind()) {
    case Kind::Null: out_.write("null"); break;
    case Kind::Bool: out_.write(v.boolean() ? "true" : "false"); break;
    case Kind::Number: number(v.number()); break;
    case Kind::String: string(v.string()); break;
    case Kind::Array: array(v); break;
    case Kind::Object: object(v); break;
    }
  }

private:
  void number(double d) {
    long long whole = (long long)d;
    if (d < 0) { out_.put('-'); whole = -whole; d = -d; }
    digits(whole);
    long long frac = (long long)((d - (double)whole) * 1000 + 0.5);
    if (frac) { out_.put('.'); digits3(frac); }
  }
  void digits(long long n) {
    char buf[24];
    int i = 0;
    do { buf[i++] = char('0' + n % 10); n /= 10; } while (n);
    while (i) out_.put(buf[--i]);
  }
  void digits3(long long n) {
    out_.put(char('0' + n / 100 % 10));
    out_.put(char('0' + n / 10 % 10));
    out_.put(char('0' + n % 10));
  }
  void string(const std::string &s) {
    out_.put('"');
    for (char c : s) {
      if (c == '"' || c == '\\') out_.put('\\');
      out_.put(c);
    }
    out_.put('"');
  }
  void array(const Value &v) {
    out_.put('[');
    bool first = true;
    for (const Value &e : v.items()) {
      if (!first) out_.put(',');
      first = false;
      write(e);
    }
    out_.put(']');
  }
  void object(const Value &v) {
    out_.put('{');
    bool first = true;
    for (const auto &m : v.members()) {
      if (!first) out_.put(',');
      first = false;
      string(m.first);
      out_.put(':');
      write(m.second);
    }
    out_.put('}');
  }
  Output &out_;
};

inline Value parse(const std::string &text) { return Parser<StringInput>(StringInput(text)).parse(); }
inline std::string dump(const Value &v) {
  StringOutput out;
  Writer<StringOutput>(out).write(v);
  return std::move(out.str());
}

/// Visits every value depth-first with a callable.
template <class F> void visit(const Value &v, F &&f) {
  f(v);
  if (v.is_array())
    for (const Value &e : v.items()) visit(e, f);
  else if (v.is_object())
    for (const auto &m : v.members()) visit(m.second, f);
}

} // namespace minijson

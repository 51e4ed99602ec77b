// Hand-written lexer and recursive-descent parser for CEL's grammar (cel-spec langdef).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <vector>

#include "absl/strings/str_format.h"
#include "expr/ast.h"

namespace cscore::cel::internal {
namespace {

enum class Tok : uint8_t { kEnd, kInt, kUint, kDouble, kString, kBytes, kIdent, kPunct };

struct Token {
  Tok kind = Tok::kEnd;
  int pos = 0;
  int end = 0;       // one past the token's last byte
  std::string text;  // identifier / punctuation / decoded string
  uint64_t u = 0;    // int magnitude or uint
  double d = 0;
};

// Each level is about ten recursive calls: 400 levels stay within a sanitizer build's stack.
constexpr int kMaxDepthCap = 400;

struct Failure {
  int pos;
  std::string message;
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

int FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c >> 5) == 6) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c >> 4) == 14) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c >> 3) == 30) {
      n = 3;
      cp = c & 0x07;
    } else {
      return static_cast<int>(i);
    }
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return static_cast<int>(i);
      unsigned char cc = s[i + k];
      if ((cc >> 6) != 2) return static_cast<int>(i);
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return static_cast<int>(i);
    }
    i += n + 1;
  }
  return -1;
}

namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  absl::StatusOr<Token> Next(Failure& fail, bool& ok) {
    absl::StatusOr<Token> t = NextToken(fail, ok);
    if (t.ok()) t->end = static_cast<int>(i_);
    return t;
  }

 private:
  absl::StatusOr<Token> NextToken(Failure& fail, bool& ok) {
    ok = true;
    SkipSpace();
    Token t;
    t.pos = static_cast<int>(i_);
    if (i_ >= src_.size()) return t;
    char c = src_[i_];
    // String prefixes: r, R, b, B and combinations.
    if (IsIdentStart(c)) {
      size_t j = i_;
      bool raw = false, bytes = false;
      while (j < src_.size() && j - i_ < 2 &&
             (src_[j] == 'r' || src_[j] == 'R' || src_[j] == 'b' || src_[j] == 'B')) {
        if (src_[j] == 'r' || src_[j] == 'R')
          raw = true;
        else
          bytes = true;
        ++j;
      }
      if (j > i_ && j < src_.size() && (src_[j] == '"' || src_[j] == '\'') &&
          !(j - i_ == 2 && ((src_[i_] | 0x20) == (src_[i_ + 1] | 0x20)))) {
        i_ = j;
        return String(t, raw, bytes, fail, ok);
      }
      size_t k = i_;
      while (k < src_.size() && (IsIdentStart(src_[k]) || IsDigit(src_[k]))) ++k;
      t.kind = Tok::kIdent;
      t.text = std::string(src_.substr(i_, k - i_));
      i_ = k;
      return t;
    }
    if (c == '"' || c == '\'') return String(t, false, false, fail, ok);
    if (IsDigit(c) || (c == '.' && i_ + 1 < src_.size() && IsDigit(src_[i_ + 1]))) {
      return Number(t, fail, ok);
    }
    static const char* kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
    for (const char* p : kTwo) {
      if (src_.substr(i_, 2) == p) {
        t.kind = Tok::kPunct;
        t.text = p;
        i_ += 2;
        return t;
      }
    }
    if (std::strchr("+-*/%<>!?:.,()[]{}", c) != nullptr && c != '\0') {
      t.kind = Tok::kPunct;
      t.text = std::string(1, c);
      ++i_;
      return t;
    }
    ok = false;
    fail = {t.pos, absl::StrFormat("unexpected character '%s'", std::string(1, c))};
    return t;
  }

  void SkipSpace() {
    while (i_ < src_.size()) {
      char c = src_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++i_;
      } else if (c == '/' && i_ + 1 < src_.size() && src_[i_ + 1] == '/') {
        while (i_ < src_.size() && src_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
  }

  Token Number(Token t, Failure& fail, bool& ok) {
    size_t start = i_;
    if (src_[i_] == '0' && i_ + 1 < src_.size() && (src_[i_ + 1] == 'x' || src_[i_ + 1] == 'X')) {
      i_ += 2;
      size_t hs = i_;
      while (i_ < src_.size() && HexVal(src_[i_]) >= 0) ++i_;
      std::string digits(src_.substr(hs, i_ - hs));
      errno = 0;
      t.u = digits.empty() ? 0 : std::strtoull(digits.c_str(), nullptr, 16);
      if (digits.empty() || errno == ERANGE) {
        ok = false;
        fail = {t.pos, "invalid hexadecimal literal"};
        return t;
      }
      t.kind = Tok::kInt;
    } else {
      bool is_double = false;
      while (i_ < src_.size() && IsDigit(src_[i_])) ++i_;
      if (i_ + 1 < src_.size() && src_[i_] == '.' && IsDigit(src_[i_ + 1])) {
        is_double = true;
        ++i_;
        while (i_ < src_.size() && IsDigit(src_[i_])) ++i_;
      }
      if (i_ < src_.size() && (src_[i_] == 'e' || src_[i_] == 'E')) {
        size_t j = i_ + 1;
        if (j < src_.size() && (src_[j] == '+' || src_[j] == '-')) ++j;
        if (j < src_.size() && IsDigit(src_[j])) {
          is_double = true;
          i_ = j;
          while (i_ < src_.size() && IsDigit(src_[i_])) ++i_;
        }
      }
      std::string text(src_.substr(start, i_ - start));
      if (is_double) {
        t.kind = Tok::kDouble;
        t.d = std::strtod(text.c_str(), nullptr);
        return t;
      }
      errno = 0;
      t.u = std::strtoull(text.c_str(), nullptr, 10);
      if (errno == ERANGE) {
        ok = false;
        fail = {t.pos, "integer literal out of range"};
        return t;
      }
      t.kind = Tok::kInt;
    }
    if (i_ < src_.size() && (src_[i_] == 'u' || src_[i_] == 'U')) {
      ++i_;
      t.kind = Tok::kUint;
    }
    return t;
  }

  Token String(Token t, bool raw, bool bytes, Failure& fail, bool& ok) {
    char q = src_[i_];
    bool triple = src_.substr(i_, 3) == std::string(3, q);
    i_ += triple ? 3 : 1;
    std::string out;
    while (true) {
      if (i_ >= src_.size()) {
        ok = false;
        fail = {t.pos, "unterminated string literal"};
        return t;
      }
      char c = src_[i_];
      if (triple ? src_.substr(i_, 3) == std::string(3, q) : c == q) {
        i_ += triple ? 3 : 1;
        break;
      }
      if (!triple && (c == '\n' || c == '\r')) {
        ok = false;
        fail = {t.pos, "unterminated string literal (newline in a single-quoted string)"};
        return t;
      }
      if (c != '\\' || raw) {
        out += c;
        ++i_;
        continue;
      }
      int esc_pos = static_cast<int>(i_);
      if (i_ + 1 >= src_.size()) {
        ok = false;
        fail = {esc_pos, "unterminated string literal"};
        return t;
      }
      char e = src_[i_ + 1];
      i_ += 2;
      switch (e) {
        case '\\':
          out += '\\';
          break;
        case '?':
          out += '?';
          break;
        case '"':
          out += '"';
          break;
        case '\'':
          out += '\'';
          break;
        case '`':
          out += '`';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
        case 'X':
        case 'u':
        case 'U': {
          int n = (e == 'x' || e == 'X') ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < n; ++k) {
            int h = i_ < src_.size() ? HexVal(src_[i_]) : -1;
            if (h < 0) {
              ok = false;
              fail = {esc_pos, "invalid escape sequence: expected hexadecimal digits"};
              return t;
            }
            cp = cp * 16 + h;
            ++i_;
          }
          if (n == 2 && bytes) {
            out += static_cast<char>(cp);
          } else {
            if (bytes && n > 2) {
              ok = false;
              fail = {esc_pos, "invalid escape sequence: \\u and \\U are not allowed in bytes"};
              return t;
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
              ok = false;
              fail = {esc_pos, "invalid escape sequence: not a Unicode code point"};
              return t;
            }
            AppendUtf8(out, cp);
          }
          break;
        }
        default:
          if (e >= '0' && e <= '3') {
            uint32_t v = e - '0';
            for (int k = 0; k < 2; ++k) {
              if (i_ >= src_.size() || src_[i_] < '0' || src_[i_] > '7') {
                ok = false;
                fail = {esc_pos, "invalid octal escape sequence"};
                return t;
              }
              v = v * 8 + (src_[i_] - '0');
              ++i_;
            }
            if (bytes)
              out += static_cast<char>(v);
            else
              AppendUtf8(out, v);
            break;
          }
          ok = false;
          fail = {esc_pos, absl::StrFormat("invalid escape sequence '\\%s'", std::string(1, e))};
          return t;
      }
    }
    t.kind = bytes ? Tok::kBytes : Tok::kString;
    t.text = std::move(out);
    return t;
  }

  std::string_view src_;
  size_t i_ = 0;
};

bool IsReserved(std::string_view s) {
  static const char* kWords[] = {"as",        "break",  "const",  "continue", "else",  "for",
                                 "function",  "if",     "import", "let",      "loop",  "package",
                                 "namespace", "return", "var",    "void",     "while", "in"};
  for (const char* w : kWords) {
    if (s == w) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(std::string_view src, const ParseLimits& limits) : src_(src), lex_(src), limits_(limits) {}

  bool Run(NodePtr& out) {
    if (!Advance()) return false;
    out = Expr();
    if (!out || failed_) return false;
    if (tok_.kind != Tok::kEnd) return Fail(tok_.pos, "unexpected token " + Shown(tok_));
    return true;
  }
  Failure failure;

 private:
  bool Fail(int pos, std::string msg) {
    if (!failed_) {
      failed_ = true;
      failure = {pos, std::move(msg)};
    }
    return false;
  }
  bool Advance() {
    bool ok = true;
    auto t = lex_.Next(failure, ok);
    if (!ok) {
      failed_ = true;
      return false;
    }
    tok_ = *std::move(t);
    return true;
  }
  bool Is(const char* p) const { return tok_.kind == Tok::kPunct && tok_.text == p; }
  bool Accept(const char* p) {
    if (!Is(p)) return false;
    return Advance();
  }
  bool Expect(const char* p) {
    if (!Is(p)) {
      return Fail(tok_.pos, absl::StrFormat("expected '%s' but found %s", p,
                                            tok_.kind == Tok::kEnd ? std::string("end of input")
                                                                   : Shown(tok_)));
    }
    return Advance();
  }

  NodePtr Make(NodeKind kind, int pos) {
    if (++nodes_ > limits_.max_nodes) {
      Fail(pos, absl::StrFormat("expression has more than %d nodes", limits_.max_nodes));
      return nullptr;
    }
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    return n;
  }
  // Children attach through here so that depth is bounded even for long left-associative
  // chains (1+1+...+1), which the parser builds without recursing.
  bool Attach(Node& parent, NodePtr child) {
    if (!child) return false;
    parent.depth = std::max(parent.depth, child->depth + 1);
    parent.args.push_back(std::move(child));
    if (parent.depth > limits_.max_depth) {
      return Fail(parent.pos,
                  absl::StrFormat("expression nests deeper than %d levels", limits_.max_depth));
    }
    return true;
  }
  // An operator call; a null operand means parsing it failed, which fails the call too.
  NodePtr Call(int pos, std::string fn, NodePtr a) { return CallN(pos, std::move(fn), {&a}); }
  NodePtr Call(int pos, std::string fn, NodePtr a, NodePtr b) {
    return CallN(pos, std::move(fn), {&a, &b});
  }
  NodePtr Call(int pos, std::string fn, NodePtr a, NodePtr b, NodePtr c) {
    return CallN(pos, std::move(fn), {&a, &b, &c});
  }
  NodePtr CallN(int pos, std::string fn, std::initializer_list<NodePtr*> operands) {
    for (NodePtr* o : operands) {
      if (!*o) return nullptr;
    }
    auto n = Make(NodeKind::kCall, pos);
    if (!n) return nullptr;
    n->name = std::move(fn);
    for (NodePtr* o : operands) {
      if (!Attach(*n, std::move(*o))) return nullptr;
    }
    return n;
  }

  struct DepthGuard {
    Parser* p;
    bool ok;
    explicit DepthGuard(Parser* parser)
        : p(parser), ok(++parser->recursion_ <= parser->limits_.max_depth) {
      if (!ok)
        p->Fail(p->tok_.pos,
                absl::StrFormat("expression nests deeper than %d levels", p->limits_.max_depth));
    }
    ~DepthGuard() { --p->recursion_; }
  };

  NodePtr Expr() {
    DepthGuard g(this);
    if (!g.ok) return nullptr;
    NodePtr cond = Or();
    if (!cond) return nullptr;
    if (Is("?")) {
      int pos = tok_.pos;
      if (!Advance()) return nullptr;
      NodePtr a = Or();
      if (!a || !Expect(":")) return nullptr;
      NodePtr b = Expr();
      if (!b) return nullptr;
      return Call(pos, "_?_:_", std::move(cond), std::move(a), std::move(b));
    }
    return cond;
  }
  // `a || b || c ...` becomes a balanced tree, as in cel-go: && and || are associative and
  // commutative over errors, and a long flat chain then stays far below the depth limit.
  NodePtr Or() { return Chain("||", "_||_", &Parser::And); }
  NodePtr And() { return Chain("&&", "_&&_", &Parser::Relation); }
  NodePtr Chain(const char* op, const char* fn, NodePtr (Parser::*term)()) {
    NodePtr first = (this->*term)();
    if (!first || !Is(op)) return first;
    std::vector<NodePtr> terms;
    std::vector<int> ops;
    terms.push_back(std::move(first));
    while (Is(op)) {
      ops.push_back(tok_.pos);
      if (!Advance()) return nullptr;
      NodePtr next = (this->*term)();
      if (!next) return nullptr;
      terms.push_back(std::move(next));
    }
    return Balance(terms, ops, 0, terms.size() - 1, fn);
  }
  NodePtr Balance(std::vector<NodePtr>& terms, const std::vector<int>& ops, size_t lo, size_t hi,
                  const char* fn) {
    if (lo == hi) return std::move(terms[lo]);
    size_t mid = lo + (hi - lo) / 2;
    NodePtr left = Balance(terms, ops, lo, mid, fn);
    if (!left) return nullptr;
    NodePtr right = Balance(terms, ops, mid + 1, hi, fn);
    if (!right) return nullptr;
    return Call(ops[mid], fn, std::move(left), std::move(right));
  }
  NodePtr Relation() {
    NodePtr l = Addition();
    while (l) {
      const char* fn = nullptr;
      if (Is("<"))
        fn = "_<_";
      else if (Is("<="))
        fn = "_<=_";
      else if (Is(">"))
        fn = "_>_";
      else if (Is(">="))
        fn = "_>=_";
      else if (Is("=="))
        fn = "_==_";
      else if (Is("!="))
        fn = "_!=_";
      else if (tok_.kind == Tok::kIdent && tok_.text == "in")
        fn = "@in";
      if (!fn) break;
      int pos = tok_.pos;
      if (!Advance()) return nullptr;
      l = Call(pos, fn, std::move(l), Addition());
    }
    return l;
  }
  NodePtr Addition() {
    NodePtr l = Multiplication();
    while (l && (Is("+") || Is("-"))) {
      std::string fn = Is("+") ? "_+_" : "_-_";
      int pos = tok_.pos;
      if (!Advance()) return nullptr;
      l = Call(pos, fn, std::move(l), Multiplication());
    }
    return l;
  }
  NodePtr Multiplication() {
    NodePtr l = Unary();
    while (l && (Is("*") || Is("/") || Is("%"))) {
      std::string fn = Is("*") ? "_*_" : Is("/") ? "_/_" : "_%_";
      int pos = tok_.pos;
      if (!Advance()) return nullptr;
      l = Call(pos, fn, std::move(l), Unary());
    }
    return l;
  }
  NodePtr Unary() {
    if (Is("!")) {
      DepthGuard g(this);
      if (!g.ok) return nullptr;
      int pos = tok_.pos;
      if (!Advance()) return nullptr;
      return Call(pos, "!_", Unary());
    }
    if (Is("-")) {
      DepthGuard g(this);
      if (!g.ok) return nullptr;
      int pos = tok_.pos;
      if (!Advance()) return nullptr;
      // A negative int literal is one constant, so -9223372036854775808 is representable.
      if (tok_.kind == Tok::kInt || tok_.kind == Tok::kDouble) {
        Token lit = tok_;
        if (!Advance()) return nullptr;
        auto n = Make(NodeKind::kConst, pos);
        if (!n) return nullptr;
        if (lit.kind == Tok::kDouble) {
          n->constant = Value::Double(-lit.d);
        } else {
          if (lit.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
            Fail(lit.pos, "integer literal out of range");
            return nullptr;
          }
          n->constant = Value::Int(static_cast<int64_t>(0 - lit.u));
        }
        return Member(std::move(n));
      }
      return Call(pos, "-_", Unary());
    }
    return Member(Primary());
  }
  bool Args(Node& call, const char* close) {
    if (Accept(close)) return true;
    while (true) {
      if (!Attach(call, Expr())) return false;
      if (Accept(close)) return true;
      if (!ExpectSeparator(close)) return false;
      if (Accept(close)) return true;  // trailing comma
    }
  }
  bool ExpectSeparator(const char* close) {
    if (Is(",")) return Advance();
    return Fail(tok_.pos, absl::StrFormat(
                              "expected ',' or '%s' but found %s", close,
                              tok_.kind == Tok::kEnd ? std::string("end of input") : Shown(tok_)));
  }
  NodePtr Member(NodePtr n) {
    while (n) {
      if (Is(".")) {
        int pos = tok_.pos;
        if (!Advance()) return nullptr;
        if (tok_.kind != Tok::kIdent) {
          Fail(tok_.pos, "expected a field name after '.'");
          return nullptr;
        }
        std::string field = tok_.text;
        if (!Advance()) return nullptr;
        if (Is("(")) {
          if (!Advance()) return nullptr;
          auto call = Make(NodeKind::kCall, pos);
          if (!call) return nullptr;
          call->name = field;
          call->receiver = true;
          if (!Attach(*call, std::move(n)) || !Args(*call, ")")) return nullptr;
          n = ExpandMacro(std::move(call));
        } else {
          auto sel = Make(NodeKind::kSelect, pos);
          if (!sel) return nullptr;
          sel->name = field;
          if (!Attach(*sel, std::move(n))) return nullptr;
          n = std::move(sel);
        }
      } else if (Is("[")) {
        int pos = tok_.pos;
        if (!Advance()) return nullptr;
        NodePtr idx = Expr();
        if (!idx || !Expect("]")) return nullptr;
        n = Call(pos, "_[_]", std::move(n), std::move(idx));
      } else {
        break;
      }
    }
    return n;
  }
  NodePtr ExpandMacro(NodePtr call) {
    Macro m = Macro::kNone;
    size_t want = 3;
    if (call->name == "all")
      m = Macro::kAll;
    else if (call->name == "exists")
      m = Macro::kExists;
    else if (call->name == "exists_one")
      m = Macro::kExistsOne;
    else if (call->name == "filter")
      m = Macro::kFilter;
    else if (call->name == "map")
      m = Macro::kMap;
    if (m == Macro::kNone) return call;
    if (m == Macro::kMap && call->args.size() == 4) want = 4;
    if (call->args.size() != want) return call;  // not the macro; a plain call
    if (call->args[1]->kind != NodeKind::kIdent) {
      Fail(call->args[1]->pos, "argument is not an identifier");
      return nullptr;
    }
    call->kind = NodeKind::kComprehension;
    call->macro = m;
    call->name = call->args[1]->name;
    call->args.erase(call->args.begin() + 1);
    if (want == 4) std::swap(call->args[1], call->args[2]);  // range, transform, filter
    return call;
  }
  NodePtr Primary() {
    Token t = tok_;
    switch (t.kind) {
      case Tok::kEnd:
        Fail(t.pos, "unexpected end of input");
        return nullptr;
      case Tok::kInt:
      case Tok::kUint:
      case Tok::kDouble:
      case Tok::kString:
      case Tok::kBytes: {
        if (!Advance()) return nullptr;
        auto n = Make(NodeKind::kConst, t.pos);
        if (!n) return nullptr;
        if (t.kind == Tok::kInt) {
          if (t.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            Fail(t.pos, "integer literal out of range");
            return nullptr;
          }
          n->constant = Value::Int(static_cast<int64_t>(t.u));
        } else if (t.kind == Tok::kUint) {
          n->constant = Value::Uint(t.u);
        } else if (t.kind == Tok::kDouble) {
          n->constant = Value::Double(t.d);
        } else if (t.kind == Tok::kString) {
          n->constant = Value::String(t.text);
        } else {
          n->constant = Value::BytesOf(t.text);
        }
        return n;
      }
      case Tok::kIdent: {
        if (!Advance()) return nullptr;
        if (t.text == "true" || t.text == "false" || t.text == "null") {
          auto n = Make(NodeKind::kConst, t.pos);
          if (!n) return nullptr;
          n->constant = t.text == "null" ? Value::Null() : Value::Bool(t.text == "true");
          return n;
        }
        if (IsReserved(t.text)) {
          Fail(t.pos, "reserved identifier '" + t.text + "'");
          return nullptr;
        }
        if (Is("(")) {
          if (!Advance()) return nullptr;
          auto call = Make(NodeKind::kCall, t.pos);
          if (!call) return nullptr;
          call->name = t.text;
          if (!Args(*call, ")")) return nullptr;
          if (t.text == "has") {
            if (call->args.size() != 1 || call->args[0]->kind != NodeKind::kSelect) {
              Fail(t.pos, "has() requires a field selection, e.g. has(m.f)");
              return nullptr;
            }
            NodePtr sel = std::move(call->args[0]);
            sel->test_only = true;
            return sel;
          }
          return call;
        }
        auto n = Make(NodeKind::kIdent, t.pos);
        if (!n) return nullptr;
        n->name = t.text;
        return n;
      }
      case Tok::kPunct:
        break;
    }
    if (Is("(")) {
      if (!Advance()) return nullptr;
      NodePtr e = Expr();
      if (!e || !Expect(")")) return nullptr;
      return e;
    }
    if (Is("[")) {
      if (!Advance()) return nullptr;
      auto n = Make(NodeKind::kList, t.pos);
      if (!n || !Args(*n, "]")) return nullptr;
      return n;
    }
    if (Is("{")) {
      if (!Advance()) return nullptr;
      auto n = Make(NodeKind::kMap, t.pos);
      if (!n) return nullptr;
      if (Accept("}")) return n;
      while (true) {
        if (!Attach(*n, Expr()) || !Expect(":") || !Attach(*n, Expr())) return nullptr;
        if (Accept("}")) return n;
        if (!ExpectSeparator("}")) return nullptr;
        if (Accept("}")) return n;
      }
    }
    if (Is(".")) {  // leading-dot qualified identifier
      if (!Advance()) return nullptr;
      if (tok_.kind != Tok::kIdent) {
        Fail(tok_.pos, "expected an identifier after '.'");
        return nullptr;
      }
      return Primary();
    }
    Fail(t.pos, "unexpected token " + Shown(t));
    return nullptr;
  }

  // A token as written in the source (numbers and strings included), quoted and shortened.
  std::string Shown(const Token& t) const {
    std::string_view raw = src_.substr(t.pos, std::max(0, t.end - t.pos));
    std::string s(raw.substr(0, 40));
    if (raw.size() > 40) s += "...";
    if (t.kind == Tok::kString || t.kind == Tok::kBytes) return s;  // already quoted
    return "'" + s + "'";
  }

  std::string_view src_;
  Lexer lex_;
  ParseLimits limits_;
  Token tok_;
  bool failed_ = false;
  size_t nodes_ = 0;
  int recursion_ = 0;
};

}  // namespace

std::string FormatError(std::string_view source, int pos, std::string_view message) {
  int line = 1;
  size_t line_start = 0;
  for (int i = 0; i < pos && i < static_cast<int>(source.size()); ++i) {
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  size_t line_end = source.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = source.size();
  std::string_view text = source.substr(line_start, line_end - line_start);
  // Columns count code points, so the caret lines up under non-ASCII text too.
  int col = 0;
  for (size_t i = line_start; i < static_cast<size_t>(pos) && i < source.size(); ++i) {
    if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) ++col;
  }
  constexpr size_t kMaxShown = 160;
  std::string shown(text.substr(0, kMaxShown));
  std::string caret = col < static_cast<int>(kMaxShown) ? std::string(col, ' ') + "^" : "";
  return absl::StrFormat("%d:%d: %s\n | %s\n | %s", line, col + 1, message, shown, caret);
}

absl::StatusOr<NodePtr> Parse(std::string_view source, const ParseLimits& limits) {
  if (source.size() > limits.max_source_bytes) {
    return absl::InvalidArgumentError(
        FormatError(source.substr(0, 1000), 0,
                    absl::StrFormat("expression is %d bytes, more than the limit of %d",
                                    source.size(), limits.max_source_bytes)));
  }
  if (int bad = FindInvalidUtf8(source); bad >= 0) {
    return absl::InvalidArgumentError(FormatError(source, bad, "invalid UTF-8 in expression"));
  }
  ParseLimits capped = limits;
  // Whatever the caller asks, recursion stays well inside a thread's stack (also under
  // sanitizers, whose frames are larger).
  capped.max_depth = std::clamp(limits.max_depth, 1, kMaxDepthCap);
  Parser p(source, capped);
  NodePtr root;
  if (!p.Run(root)) {
    return absl::InvalidArgumentError(FormatError(source, p.failure.pos, p.failure.message));
  }
  return root;
}

}  // namespace cscore::cel::internal

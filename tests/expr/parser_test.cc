// Parser: error messages with line, column and caret; depth and size limits; bad literals.
#include <string>

#include "cscore/expr/cel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore::cel {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string CompileError(std::string_view src, const Environment& env = Environment(),
                         const CompileOptions& opt = {}) {
  auto p = Compile(src, env, opt);
  if (p.ok()) return "<compiled>";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << src;
  return std::string(p.status().message());
}

TEST(Parser, SyntaxErrorGivesLineColumnAndCaret) {
  EXPECT_EQ(CompileError("1 + * 2"),
            "1:5: unexpected token '*'\n"
            " | 1 + * 2\n"
            " |     ^");
}

TEST(Parser, PositionOnALaterLine) {
  std::string msg = CompileError("true &&\n  (1 < 2) &&\n  3 ! 4");
  EXPECT_THAT(msg, StartsWith("3:5: unexpected token '!'"));
  EXPECT_THAT(msg, HasSubstr("\n |   3 ! 4\n |     ^"));
}

TEST(Parser, ColumnsCountCharactersNotBytes) {
  // "é" is two bytes; the caret sits under the stray ')' at character 8.
  std::string msg = CompileError("'héllo' )");
  EXPECT_THAT(msg, StartsWith("1:9: unexpected token ')'"));
  EXPECT_THAT(msg, HasSubstr(" | 'héllo' )\n |         ^"));
}

TEST(Parser, UnexpectedEndAndUnbalanced) {
  EXPECT_THAT(CompileError("(1 + 2"), StartsWith("1:7: expected ')' but found end of input"));
  EXPECT_THAT(CompileError("[1, 2"), StartsWith("1:6: expected ',' or ']' but found end of input"));
  EXPECT_THAT(CompileError("{1: 2 3}"), StartsWith("1:7: expected ',' or '}' but found '3'"));
  EXPECT_THAT(CompileError("f(1 'x')"), StartsWith("1:5: expected ',' or ')' but found 'x'"));
  EXPECT_THAT(CompileError(""), StartsWith("1:1: unexpected end of input"));
  EXPECT_THAT(CompileError("1 2"), StartsWith("1:3: unexpected token '2'"));
  EXPECT_THAT(CompileError("a.1"), StartsWith("1:2: unexpected token '.1'"));
  EXPECT_THAT(CompileError("a.(b)"), StartsWith("1:3: expected a field name after '.'"));
  EXPECT_THAT(CompileError("1 # 2"), StartsWith("1:3: unexpected character '#'"));
}

TEST(Parser, MissingOperandAtTheEndIsAnError) {
  // Regression: a failed right operand at the end of input used to leave a one-argument call.
  for (const char* src : {"x +", "1 -", "a && b ||", "x ==", "x in", "!", "-", "a ? b :", "a ? b",
                          "x[", "f(1,", "[1,", "{1:", "a."}) {
    Environment env;
    env.DisableCheck();
    auto p = Compile(src, env);
    EXPECT_FALSE(p.ok()) << src;
  }
  EXPECT_THAT(CompileError("1 +"), StartsWith("1:4: unexpected end of input"));
}

TEST(Parser, ReservedWordsAndMacroMisuse) {
  EXPECT_THAT(CompileError("while"), StartsWith("1:1: reserved identifier 'while'"));
  EXPECT_THAT(CompileError("has(x)"), HasSubstr("has() requires a field selection"));
  EXPECT_THAT(CompileError("[1].all(1, true)"), HasSubstr("argument is not an identifier"));
}

TEST(Parser, UnterminatedStrings) {
  EXPECT_THAT(CompileError("'abc"), StartsWith("1:1: unterminated string literal"));
  EXPECT_THAT(CompileError("x == \"abc"), StartsWith("1:6: unterminated string literal"));
  EXPECT_THAT(CompileError("'''abc''"), StartsWith("1:1: unterminated string literal"));
  EXPECT_THAT(CompileError("r'abc"), StartsWith("1:1: unterminated string literal"));
  EXPECT_THAT(CompileError("'ab\ncd'"), HasSubstr("newline in a single-quoted string"));
  EXPECT_THAT(CompileError("'abc\\"), HasSubstr("unterminated string literal"));
}

TEST(Parser, InvalidEscapes) {
  EXPECT_THAT(CompileError("'a\\qb'"), StartsWith("1:3: invalid escape sequence '\\q'"));
  EXPECT_THAT(CompileError("'\\x4'"), HasSubstr("expected hexadecimal digits"));
  EXPECT_THAT(CompileError("'\\uD800'"), HasSubstr("not a Unicode code point"));
  EXPECT_THAT(CompileError("'\\U00110000'"), HasSubstr("not a Unicode code point"));
  EXPECT_THAT(CompileError("'\\8'"), HasSubstr("invalid escape sequence"));
  EXPECT_THAT(CompileError("'\\19'"), HasSubstr("invalid octal escape sequence"));
  EXPECT_THAT(CompileError("b'\\u0041'"), HasSubstr("not allowed in bytes"));
  // Valid escapes still work.
  auto p = Compile("'\\x41\\u00e9\\101\\n' == 'Aé' + 'A\\n'", Environment());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->Evaluate({}).bool_value());
}

TEST(Parser, InvalidUtf8) {
  EXPECT_THAT(CompileError("'abc\xff'"), StartsWith("1:5: invalid UTF-8 in expression"));
  EXPECT_THAT(CompileError("x == 1 && \xc3"), StartsWith("1:11: invalid UTF-8"));
  EXPECT_THAT(CompileError("'\xc0\xaf'"), HasSubstr("invalid UTF-8"));          // overlong
  EXPECT_THAT(CompileError("'\xed\xa0\x80'"), HasSubstr("invalid UTF-8"));      // surrogate
  EXPECT_THAT(CompileError("'\xf4\x90\x80\x80'"), HasSubstr("invalid UTF-8"));  // > U+10FFFF
}

TEST(Parser, NumberLiteralsOutOfRange) {
  EXPECT_THAT(CompileError("9223372036854775808"), HasSubstr("integer literal out of range"));
  EXPECT_THAT(CompileError("18446744073709551616u"), HasSubstr("integer literal out of range"));
  EXPECT_THAT(CompileError("0x"), HasSubstr("invalid hexadecimal literal"));
  auto p = Compile("-9223372036854775808 < 0 && 18446744073709551615u > 0u", Environment());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->Evaluate({}).bool_value());
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Parser, TenThousandDeepNestingIsAnErrorNotACrash) {
  const int kDeep = 10000;
  const std::string cases[] = {
      Repeat("(", kDeep) + "1" + Repeat(")", kDeep),
      Repeat("[", kDeep) + "1" + Repeat("]", kDeep),
      Repeat("{1: ", kDeep) + "1" + Repeat("}", kDeep),
      Repeat("!", kDeep) + "true",
      Repeat("-", kDeep) + "1",
      Repeat("-(", kDeep) + "1" + Repeat(")", kDeep),
      Repeat("size(", kDeep) + "'a'" + Repeat(")", kDeep),
      "a" + Repeat(".b", kDeep),
      "a" + Repeat("[0]", kDeep),
      Repeat("true ? 1 : ", kDeep) + "2",
      Repeat("1 + (", kDeep) + "1" + Repeat(")", kDeep),
      Repeat("[1].map(x, ", kDeep) + "x" + Repeat(")", kDeep),
      Repeat("(", kDeep),  // and never closed
  };
  for (const std::string& src : cases) {
    std::string msg = CompileError(src);
    EXPECT_THAT(msg, HasSubstr("nests deeper than 250 levels")) << src.substr(0, 40);
  }
  // A caller asking for a huge limit still gets a bounded parser.
  CompileOptions opt;
  opt.max_depth = 1 << 30;
  opt.max_nodes = 1 << 30;
  EXPECT_THAT(CompileError(cases[0], Environment(), opt), HasSubstr("nests deeper than 400"));
  EXPECT_THAT(CompileError(cases[7], Environment(), opt), HasSubstr("nests deeper than 400"));
}

TEST(Parser, NestingWithinTheLimitWorks) {
  std::string src = Repeat("(", 200) + "1" + Repeat(")", 200) + " == 1";
  auto p = Compile(src, Environment());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->Evaluate({}).bool_value());
}

TEST(Parser, LongLogicalChainsAreBalanced) {
  // 5,000 terms joined by || would be 5,000 levels deep as a left-leaning tree.
  std::string src = "false";
  for (int i = 0; i < 4999; ++i) src += i == 4321 ? " || x == 7" : " || x == -1";
  Environment env;
  env.Declare("x", Kind::kInt);
  auto p = Compile(src, env);
  ASSERT_TRUE(p.ok()) << p.status().message().substr(0, 200);
  EXPECT_TRUE(p->Evaluate({{"x", Value::Int(7)}}).bool_value());
  EXPECT_FALSE(p->Evaluate({{"x", Value::Int(8)}}).bool_value());
  std::string all = "true" + Repeat(" && true", 3000) + " && false";
  auto q = Compile(all, env);
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->Evaluate({}).bool_value());
}

TEST(Parser, OneMegabyteExpressions) {
  // Over the size limit: refused before lexing.
  std::string big(CompileOptions().max_source_bytes + 1, ' ');
  big[0] = '1';
  EXPECT_THAT(CompileError(big), HasSubstr("more than the limit of 1048576"));
  // Within the size limit but too many nodes: refused, quickly.
  std::string list = "[" + Repeat("1, ", 340000) + "1]";
  ASSERT_LE(list.size(), CompileOptions().max_source_bytes);
  EXPECT_THAT(CompileError(list), HasSubstr("more than 100000 nodes"));
  // A long flat sum: refused by depth, not by the stack.
  std::string sum = "1" + Repeat(" + 1", 260000);
  ASSERT_LE(sum.size(), CompileOptions().max_source_bytes);
  EXPECT_THAT(CompileError(sum), HasSubstr("nests deeper than"));
  // A 1 MB string literal is just a value.
  std::string lit = "size('" + std::string((1 << 20) - 16, 'x') + "')";
  auto p = Compile(lit, Environment());
  ASSERT_TRUE(p.ok()) << p.status().message().substr(0, 100);
  EXPECT_EQ(p->Evaluate({}).int_value(), (1 << 20) - 16);
}

TEST(Parser, ManyDistinctIdentifiersStayLinear) {
  // Unchecked: every identifier is a variable resolved at run time.
  std::string src = "[";
  for (int i = 0; i < 60000; ++i) src += "v" + std::to_string(i) + ",";
  src += "0].size()";
  Environment env;
  env.DisableCheck();
  auto p = Compile(src, env);
  ASSERT_TRUE(p.ok()) << p.status().message().substr(0, 100);
  EXPECT_TRUE(p->Evaluate({}).is_error());  // v0 is unbound
}

TEST(Parser, LargeMapLiteralsStayLinear) {
  std::string src = "{";
  for (int i = 0; i < 30000; ++i) src += std::to_string(i) + ": " + std::to_string(i) + ",";
  src += "1u: 2}";  // 1u duplicates 1
  auto p = Compile(src, Environment());
  ASSERT_TRUE(p.ok()) << p.status().message().substr(0, 100);
  Value v = p->Evaluate({});
  ASSERT_TRUE(v.is_error());
  EXPECT_THAT(v.error_message(), HasSubstr("duplicate map key 1u"));
}

TEST(Parser, CommentsAndWhitespace) {
  auto p = Compile("1 + // one\n\t2 // two\r\n== 3", Environment());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->Evaluate({}).bool_value());
}

}  // namespace
}  // namespace cscore::cel

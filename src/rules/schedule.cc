#include <charconv>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "cscore/base/strings.h"
#include "cscore/rules/rules.h"

namespace cscore {
namespace {

constexpr std::string_view kExpected =
    "expected 'daily', 'weekly on <weekday>', 'every <N> days [from YYYY-MM-DD]', "
    "'quarterly [on day <D>]' or 'on <event column>'";

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("schedule '", text, "': ", why));
}

bool ParseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::optional<absl::Weekday> ParseWeekday(std::string_view w) {
  static constexpr std::pair<std::string_view, absl::Weekday> kDays[] = {
      {"monday", absl::Weekday::monday},       {"tuesday", absl::Weekday::tuesday},
      {"wednesday", absl::Weekday::wednesday}, {"thursday", absl::Weekday::thursday},
      {"friday", absl::Weekday::friday},       {"saturday", absl::Weekday::saturday},
      {"sunday", absl::Weekday::sunday}};
  for (const auto& [name, day] : kDays) {
    if (w == name || (w.size() == 3 && name.substr(0, 3) == w)) return day;
  }
  return std::nullopt;
}

std::string_view WeekdayName(absl::Weekday d) {
  switch (d) {
    case absl::Weekday::monday:
      return "monday";
    case absl::Weekday::tuesday:
      return "tuesday";
    case absl::Weekday::wednesday:
      return "wednesday";
    case absl::Weekday::thursday:
      return "thursday";
    case absl::Weekday::friday:
      return "friday";
    case absl::Weekday::saturday:
      return "saturday";
    case absl::Weekday::sunday:
      return "sunday";
  }
  return "?";
}

}  // namespace

bool Schedule::RunsOn(absl::CivilDay day) const {
  switch (kind) {
    case Kind::kDaily:
    case Kind::kOnEvent:
      return true;
    case Kind::kWeekly:
      return absl::GetWeekday(day) == weekday;
    case Kind::kEveryNDays: {
      const int64_t d = day - anchor;
      return every_days > 0 && d >= 0 && d % every_days == 0;
    }
    case Kind::kQuarterly:
      return (day.month() - 1) % 3 == 0 && day.day() == quarter_day;
  }
  return false;
}

absl::StatusOr<Schedule> ParseSchedule(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(ToAbsl(text));
  std::vector<std::string> w = absl::StrSplit(lower, ' ', absl::SkipWhitespace());
  Schedule s;
  if (w.empty()) return Bad(text, kExpected);
  if (w[0] == "daily" && w.size() == 1) return s;
  if (w[0] == "weekly") {
    if (w.size() != 3 || w[1] != "on") return Bad(text, "expected 'weekly on <weekday>'");
    std::optional<absl::Weekday> d = ParseWeekday(w[2]);
    if (!d) return Bad(text, StrCat("unknown weekday '", w[2], "'"));
    s.kind = Schedule::Kind::kWeekly;
    s.weekday = *d;
    return s;
  }
  if (w[0] == "every") {
    if ((w.size() != 3 && w.size() != 5) || (w[2] != "days" && w[2] != "day")) {
      return Bad(text, "expected 'every <N> days [from YYYY-MM-DD]'");
    }
    int n = 0;
    if (!ParseInt(w[1], n) || n < 1 || n > 3660) {
      return Bad(text, StrCat("'", w[1], "' is not a number of days in 1..3660"));
    }
    s.kind = Schedule::Kind::kEveryNDays;
    s.every_days = n;
    if (w.size() == 5) {
      absl::CivilDay anchor;
      if (w[3] != "from" || !absl::ParseCivilTime(w[4], &anchor)) {
        return Bad(text, StrCat("expected 'from YYYY-MM-DD', got '", w[3], " ", w[4], "'"));
      }
      s.anchor = anchor;
    }
    return s;
  }
  if (w[0] == "quarterly") {
    if (w.size() == 1) {
      s.kind = Schedule::Kind::kQuarterly;
      return s;
    }
    int d = 0;
    if (w.size() != 4 || w[1] != "on" || w[2] != "day" || !ParseInt(w[3], d) || d < 1 || d > 28) {
      return Bad(text, "expected 'quarterly' or 'quarterly on day <1..28>'");
    }
    s.kind = Schedule::Kind::kQuarterly;
    s.quarter_day = d;
    return s;
  }
  if (w[0] == "on" && w.size() == 2) {
    s.kind = Schedule::Kind::kOnEvent;
    // Column names keep their case: take the original spelling.
    std::vector<std::string> orig = absl::StrSplit(ToAbsl(text), ' ', absl::SkipWhitespace());
    s.event_column = orig[1];
    return s;
  }
  return Bad(text, kExpected);
}

std::string FormatSchedule(const Schedule& s) {
  switch (s.kind) {
    case Schedule::Kind::kDaily:
      return "daily";
    case Schedule::Kind::kWeekly:
      return StrCat("weekly on ", WeekdayName(s.weekday));
    case Schedule::Kind::kEveryNDays:
      return StrCat("every ", s.every_days, " days from ", absl::FormatCivilTime(s.anchor));
    case Schedule::Kind::kQuarterly:
      return StrCat("quarterly on day ", s.quarter_day);
    case Schedule::Kind::kOnEvent:
      return StrCat("on ", s.event_column);
  }
  return "?";
}

absl::StatusOr<int> ParsePriority(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(ToAbsl(text));
  if (lower == "urgent") return 0;
  if (lower == "high") return 1;
  if (lower == "medium") return 2;
  if (lower == "low") return 3;
  int p = 0;
  if (ParseInt(lower, p) && p >= 0 && p <= 255) return p;
  return absl::InvalidArgumentError(
      StrCat("priority '", text, "': expected urgent, high, medium, low or 0..255"));
}

}  // namespace cscore

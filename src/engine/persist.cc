#include "cscore/engine/persist.h"

#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace cscore {

std::string FormatDay(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  std::string s(text);
  if (s.size() == 10 && std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3) {
    absl::CivilDay day(y, m, d);
    // CivilDay normalizes 2024-02-30 to March; a real date round-trips.
    if (day.year() == y && day.month() == m && day.day() == d) return day;
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("'%s' is not a date (expected YYYY-MM-DD)", text));
}

int64_t DayStart(absl::CivilDay day) {
  return absl::ToUnixSeconds(absl::FromCivil(day, absl::UTCTimeZone()));
}

}  // namespace cscore

#include "cscore/rules/rules.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cscore {
namespace {

using ::testing::HasSubstr;

TEST(Schedule, ParsesEveryForm) {
  EXPECT_EQ(ParseSchedule("daily")->kind, Schedule::Kind::kDaily);
  auto weekly = ParseSchedule("Weekly on Wed");
  ASSERT_TRUE(weekly.ok());
  EXPECT_EQ(weekly->weekday, absl::Weekday::wednesday);
  auto every = ParseSchedule("every 14 days from 2026-01-05");
  ASSERT_TRUE(every.ok()) << every.status();
  EXPECT_EQ(every->every_days, 14);
  EXPECT_EQ(every->anchor, absl::CivilDay(2026, 1, 5));
  EXPECT_EQ(ParseSchedule("quarterly on day 15")->quarter_day, 15);
  auto event = ParseSchedule("on Champion_Changed");
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->event_column, "Champion_Changed");
  for (const char* s : {"daily", "weekly on friday", "every 3 days from 2026-02-01",
                        "quarterly on day 1", "on x"}) {
    EXPECT_EQ(FormatSchedule(*ParseSchedule(s)), s);
  }
}

TEST(Schedule, RejectsWhatDoesNotParse) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "expected 'daily'"},
      {"hourly", "expected 'daily'"},
      {"weekly", "weekly on <weekday>"},
      {"weekly on funday", "unknown weekday 'funday'"},
      {"every 0 days", "not a number of days"},
      {"every x days", "not a number of days"},
      {"every 3 weeks", "every <N> days"},
      {"every 3 days from 2026-13-01", "expected 'from YYYY-MM-DD'"},
      {"quarterly on day 31", "1..28"},
      {"daily please", "expected 'daily'"},
  };
  for (const auto& [text, why] : cases) {
    auto s = ParseSchedule(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(why)) << text;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(StrCat("'", text, "'")));
  }
}

TEST(Schedule, RunsOnTheRightDays) {
  const absl::CivilDay monday(2026, 11, 23);
  EXPECT_TRUE(ParseSchedule("weekly on monday")->RunsOn(monday));
  EXPECT_FALSE(ParseSchedule("weekly on monday")->RunsOn(monday + 1));
  Schedule every = *ParseSchedule("every 14 days from 2026-11-09");
  EXPECT_TRUE(every.RunsOn(monday));
  EXPECT_FALSE(every.RunsOn(monday + 7));
  EXPECT_TRUE(every.RunsOn(monday + 14));
  EXPECT_FALSE(every.RunsOn(absl::CivilDay(2026, 11, 9) - 14));  // before the anchor
  Schedule quarterly = *ParseSchedule("quarterly");
  EXPECT_TRUE(quarterly.RunsOn(absl::CivilDay(2026, 10, 1)));
  EXPECT_TRUE(quarterly.RunsOn(absl::CivilDay(2027, 1, 1)));
  EXPECT_FALSE(quarterly.RunsOn(absl::CivilDay(2026, 11, 1)));
  EXPECT_FALSE(quarterly.RunsOn(absl::CivilDay(2026, 10, 2)));
}

TEST(Priority, NamesAndNumbers) {
  EXPECT_EQ(*ParsePriority("Urgent"), 0);
  EXPECT_EQ(*ParsePriority("low"), 3);
  EXPECT_EQ(*ParsePriority("7"), 7);
  EXPECT_FALSE(ParsePriority("256").ok());
  EXPECT_FALSE(ParsePriority("soon").ok());
}

}  // namespace
}  // namespace cscore

#include "cscore/cta/lifecycle_yaml.h"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "config/yaml_util.h"
#include "cscore/base/strings.h"
#include "cta/lifecycle_internal.h"

namespace cscore {
namespace {

using config::ErrorAt;

// Kept byte-identical to examples/demo/config/lifecycles/default.yaml (a test checks it) so
// the library works without any file.
constexpr std::string_view kDefaultYaml = R"yaml(
# The default CTA lifecycle: New -> Work in progress -> Closed (success / lost / no action),
# reopen within 30 days, flag / unflag, snooze / wake. Snooze expiry, due-date breach and
# escalation steps are timed events fired by the daily run.
name: default
initial: new
statuses:
  - {name: new, category: open, on_entry: [open_playbook]}
  - {name: work_in_progress, category: open, on_entry: [stamp_started]}
  - {name: closed_success, category: closed_success, on_entry: [stamp_closed, unflag, wake]}
  - {name: closed_lost, category: closed_lost, on_entry: [stamp_closed, unflag, wake]}
  - {name: closed_no_action, category: closed_no_action, on_entry: [stamp_closed, unflag, wake]}
events: [start, close_success, close_lost, close_no_action, reopen, flag, unflag, snooze, wake,
         breach, escalate]
transitions:
  - {event: start, from: new, to: work_in_progress, who: [owner, escalation_chain, admin]}
  - {event: close_success, from: [new, work_in_progress], to: closed_success,
     who: [owner, escalation_chain, admin, system]}
  - {event: close_lost, from: [new, work_in_progress], to: closed_lost,
     who: [owner, escalation_chain, admin, system]}
  - {event: close_no_action, from: [new, work_in_progress], to: closed_no_action,
     who: [owner, escalation_chain, admin, system]}
  - {event: reopen, from: [closed_success, closed_lost, closed_no_action], to: work_in_progress,
     reopen_within: 30d, who: [owner, escalation_chain, admin]}
  - {event: flag, from: [new, work_in_progress], actions: [flag],
     who: [owner, escalation_chain, admin]}
  - {event: unflag, from: [new, work_in_progress], actions: [unflag],
     who: [owner, escalation_chain, admin]}
  - {event: snooze, from: [new, work_in_progress], actions: [snooze],
     who: [owner, escalation_chain, admin]}
  - {event: wake, from: [new, work_in_progress], actions: [wake],
     who: [owner, escalation_chain, admin, system]}
  - {event: breach, from: [new, work_in_progress], actions: [mark_breached], who: [system]}
  - {event: escalate, from: [new, work_in_progress], who: [system]}
timed:
  snooze_expiry: wake
  due_breach: breach
  escalation: escalate
)yaml";

// "30d", "12h", "90m", "45s" or a plain number of seconds.
absl::StatusOr<absl::Duration> ParseDuration(std::string_view source, const YAML::Node& node) {
  absl::StatusOr<std::string> text = config::AsString(source, node);
  if (!text.ok()) return text.status();
  std::string_view s = *text;
  absl::Duration unit = absl::Seconds(1);
  if (!s.empty() && std::isalpha(static_cast<unsigned char>(s.back()))) {
    switch (s.back()) {
      case 'd':
        unit = absl::Hours(24);
        break;
      case 'h':
        unit = absl::Hours(1);
        break;
      case 'm':
        unit = absl::Minutes(1);
        break;
      case 's':
        unit = absl::Seconds(1);
        break;
      default:
        unit = absl::ZeroDuration();
    }
    s.remove_suffix(1);
  }
  int64_t n = 0;
  bool ok = !s.empty() && unit != absl::ZeroDuration() && s.size() < 12;
  for (char c : s) {
    if (c < '0' || c > '9') ok = false;
    n = n * 10 + (c - '0');
  }
  if (!ok) {
    return ErrorAt(source, node,
                   StrCat("'", *text, "' is not a duration (e.g. 30d, 12h, 90m, 45s)"));
  }
  return n * unit;
}

absl::StatusOr<std::vector<std::string>> StringOrList(std::string_view source,
                                                      const YAML::Node& node) {
  std::vector<std::string> out;
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      absl::StatusOr<std::string> s = config::AsString(source, item);
      if (!s.ok()) return s.status();
      out.push_back(*std::move(s));
    }
    return out;
  }
  absl::StatusOr<std::string> s = config::AsString(source, node);
  if (!s.ok()) return s.status();
  out.push_back(*std::move(s));
  return out;
}

template <typename Parse>
auto ActionList(std::string_view source, const YAML::Node& node, Parse parse)
    -> absl::StatusOr<std::vector<CtaAction>> {
  std::vector<CtaAction> out;
  if (!node.IsSequence()) return ErrorAt(source, node, "expected a list of actions");
  for (const YAML::Node& item : node) {
    absl::StatusOr<std::string> s = config::AsString(source, item);
    if (!s.ok()) return s.status();
    absl::StatusOr<CtaAction> a = parse(*s);
    if (!a.ok()) return ErrorAt(source, item, ToStd(a.status().message()));
    out.push_back(*a);
  }
  return out;
}

// The message's leading expression-relative "line:column: " moved onto the YAML text of
// `node` (inside the quotes of a quoted scalar), so the error lands on the guard's character.
absl::Status ExpressionErrorAt(std::string_view source, const YAML::Node& node,
                               std::string_view message) {
  const YAML::Mark m = node.Mark();
  int line = m.line + 1, column = m.column + 1 + (node.Tag() == "!" ? 1 : 0);
  int l = 0, c = 0, used = 0;
  const std::string text(message);
  if (std::sscanf(text.c_str(), "%d:%d: %n", &l, &c, &used) == 2 && used > 0 && l >= 1 && c >= 1) {
    column = l == 1 ? column + c - 1 : c;
    line += l - 1;
    message.remove_prefix(used);
  }
  return absl::InvalidArgumentError(ToAbsl(StrCat(source, ":", line, ":", column, ": ", message)));
}

absl::StatusOr<CtaCategory> ParseCategory(std::string_view source, const YAML::Node& node) {
  absl::StatusOr<std::string> s = config::AsString(source, node);
  if (!s.ok()) return s.status();
  for (int c = 0; c <= static_cast<int>(CtaCategory::kClosedNoAction); ++c) {
    if (CategoryName(static_cast<CtaCategory>(c)) == *s) return static_cast<CtaCategory>(c);
  }
  return ErrorAt(source, node,
                 StrCat("unknown category '", *s,
                        "' (expected open, closed_success, closed_lost or closed_no_action)"));
}

#define CSCORE_ASSIGN(lhs, expr)      \
  do {                                \
    auto _r = (expr);                 \
    if (!_r.ok()) return _r.status(); \
    lhs = *std::move(_r);             \
  } while (0)

absl::StatusOr<Lifecycle> Load(const config::YamlDoc& doc) {
  const std::string& src = doc.source;
  const YAML::Node& root = doc.root;
  if (!root.IsMap()) return ErrorAt(src, root, "a lifecycle must be a map");
  if (absl::Status st = config::CheckKeys(
          src, root, {"name", "types", "initial", "statuses", "events", "transitions", "timed"});
      !st.ok()) {
    return st;
  }
  LifecycleDef def;
  if (root["name"]) CSCORE_ASSIGN(def.name, config::AsString(src, root["name"]));
  if (root["types"]) CSCORE_ASSIGN(def.types, StringOrList(src, root["types"]));
  CSCORE_ASSIGN(def.initial, config::RequiredString(src, root, "initial"));

  const YAML::Node statuses = root["statuses"];
  if (!statuses || !statuses.IsSequence() || statuses.size() == 0) {
    return ErrorAt(src, statuses ? statuses : root, "'statuses' must be a non-empty list");
  }
  std::vector<YAML::Node> status_nodes;
  for (const YAML::Node& s : statuses) {
    if (!s.IsMap()) return ErrorAt(src, s, "a status is a map {name, category, on_entry}");
    if (absl::Status st = config::CheckKeys(src, s, {"name", "category", "on_entry"}); !st.ok()) {
      return st;
    }
    CtaStatusDef sd;
    CSCORE_ASSIGN(sd.name, config::RequiredString(src, s, "name"));
    if (!s["category"]) return ErrorAt(src, s, StrCat("status '", sd.name, "' has no category"));
    CSCORE_ASSIGN(sd.category, ParseCategory(src, s["category"]));
    if (s["on_entry"]) CSCORE_ASSIGN(sd.on_entry, ActionList(src, s["on_entry"], ParseAction));
    def.statuses.push_back(std::move(sd));
    status_nodes.push_back(s);
  }

  const YAML::Node events = root["events"];
  if (!events || !events.IsSequence()) {
    return ErrorAt(src, events ? events : root, "'events' must be a list of names");
  }
  std::vector<YAML::Node> event_nodes;
  for (const YAML::Node& e : events) {
    std::string name;
    CSCORE_ASSIGN(name, config::AsString(src, e));
    def.events.push_back(std::move(name));
    event_nodes.push_back(e);
  }

  const YAML::Node transitions = root["transitions"];
  if (!transitions || !transitions.IsSequence()) {
    return ErrorAt(src, transitions ? transitions : root, "'transitions' must be a list");
  }
  std::vector<YAML::Node> transition_nodes;
  for (const YAML::Node& t : transitions) {
    if (!t.IsMap()) return ErrorAt(src, t, "a transition is a map {event, from, to, who, ...}");
    if (absl::Status st = config::CheckKeys(
            src, t, {"event", "from", "to", "who", "actions", "reopen_within", "guard"});
        !st.ok()) {
      return st;
    }
    CtaTransitionDef td;
    CSCORE_ASSIGN(td.event, config::RequiredString(src, t, "event"));
    if (!t["from"]) return ErrorAt(src, t, StrCat("transition '", td.event, "' has no 'from'"));
    CSCORE_ASSIGN(td.from, StringOrList(src, t["from"]));
    if (t["to"]) CSCORE_ASSIGN(td.to, config::AsString(src, t["to"]));
    if (!t["who"]) return ErrorAt(src, t, StrCat("transition '", td.event, "' has no 'who'"));
    CSCORE_ASSIGN(td.who, StringOrList(src, t["who"]));
    if (t["actions"]) CSCORE_ASSIGN(td.actions, ActionList(src, t["actions"], ParseAction));
    if (t["reopen_within"]) CSCORE_ASSIGN(td.reopen_within, ParseDuration(src, t["reopen_within"]));
    if (t["guard"]) {
      CSCORE_ASSIGN(td.guard, config::AsString(src, t["guard"]));
      if (td.guard.empty()) return ErrorAt(src, t["guard"], "empty guard");
    }
    def.transitions.push_back(std::move(td));
    transition_nodes.push_back(t);
  }

  const YAML::Node timed = root["timed"];
  if (timed) {
    if (!timed.IsMap()) return ErrorAt(src, timed, "'timed' must be a map");
    if (absl::Status st =
            config::CheckKeys(src, timed, {"snooze_expiry", "due_breach", "escalation"});
        !st.ok()) {
      return st;
    }
    if (timed["snooze_expiry"]) {
      CSCORE_ASSIGN(def.snooze_expiry_event, config::AsString(src, timed["snooze_expiry"]));
    }
    if (timed["due_breach"]) {
      CSCORE_ASSIGN(def.due_breach_event, config::AsString(src, timed["due_breach"]));
    }
    if (timed["escalation"]) {
      CSCORE_ASSIGN(def.escalation_event, config::AsString(src, timed["escalation"]));
    }
  }

  using Item = LifecycleCompiler::Item;
  return LifecycleCompiler::Run(def, [&](Item item, int i, std::string_view msg) {
    switch (item) {
      case Item::kStatus:
        return ErrorAt(src, i < static_cast<int>(status_nodes.size()) ? status_nodes[i] : root,
                       msg);
      case Item::kEvent:
        return ErrorAt(src, i < static_cast<int>(event_nodes.size()) ? event_nodes[i] : root, msg);
      case Item::kTransition:
        return ErrorAt(src, transition_nodes[i], msg);
      case Item::kInitial:
        return ErrorAt(src, root["initial"], msg);
      case Item::kSnoozeExpiry:
        return ErrorAt(src, timed["snooze_expiry"], msg);
      case Item::kDueBreach:
        return ErrorAt(src, timed["due_breach"], msg);
      case Item::kEscalation:
        return ErrorAt(src, timed["escalation"], msg);
      case Item::kGuard:
        return ExpressionErrorAt(src, transition_nodes[i]["guard"], msg);
      case Item::kLifecycle:
        break;
    }
    return ErrorAt(src, root, msg);
  });
}

#undef CSCORE_ASSIGN

}  // namespace

absl::StatusOr<Lifecycle> LoadLifecycleFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(ToAbsl(StrCat(path, ": cannot open file")));
  std::stringstream text;
  text << in.rdbuf();
  return LoadLifecycleString(text.str(), path);
}

absl::StatusOr<Lifecycle> LoadLifecycleString(std::string_view yaml, std::string source) {
  absl::StatusOr<config::YamlDoc> doc = config::LoadYamlString(yaml, source);
  if (!doc.ok()) {
    // config::LoadYamlString can lose the source name of a parse error; put it back.
    std::string_view msg = ToStd(doc.status().message());
    if (!msg.empty() && msg.front() == ':') {
      return absl::Status(doc.status().code(), ToAbsl(StrCat(source, msg)));
    }
    return doc.status();
  }
  return Load(*doc);
}

std::string_view DefaultLifecycleYaml() { return kDefaultYaml.substr(1); }

}  // namespace cscore

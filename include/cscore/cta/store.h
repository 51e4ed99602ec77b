// The CTA store: every CTA (call to action) of a book of accounts in columns (1-byte status,
// 1-byte overlay flags, interned strings, int64 microsecond times), moved by the table of its
// type's Lifecycle. Every accepted change is appended to an audit log of fixed-size records
// over an interned string table; the store is a pure fold of that log, so Replay() of the
// log rebuilds it exactly. A rejected call (unknown CTA, event that does not apply, actor not
// allowed, guard that does not hold) returns an error naming actor, event and CTA, and
// changes nothing. Guards are decided when an event is fired; Replay folds the accepted
// records and does not re-run them.
//
//   absl::StatusOr<std::unique_ptr<cscore::CtaStore>> store = cscore::CtaStore::Create({});
//   absl::StatusOr<cscore::CtaId> id = (*store)->Open({.account = "acme", ...}, rules, now);
//   absl::Status st = (*store)->Fire(*id, "start", {.id = "ann", .role = cscore::Role::kCsm}, now);
#ifndef CSCORE_CTA_STORE_H_
#define CSCORE_CTA_STORE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cscore/base/strings.h"
#include "cscore/cta/lifecycle.h"

namespace cscore {

using CtaId = int32_t;
// Times are microseconds since the Unix epoch; kNoTime marks "not set".
inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// The eight risk domains of DOMAIN.md; kNone for CTAs outside the risk scorecard.
enum class RiskDomain : uint8_t {
  kNone,
  kHabit,
  kSentiment,
  kCompany,
  kSupport,
  kImplementation,
  kReadiness,
  kProduct,
  kDefect
};
inline constexpr int kRiskDomainCount = 9;
std::string_view RiskDomainName(RiskDomain d);
absl::StatusOr<RiskDomain> ParseRiskDomain(std::string_view name);

// Whoever fires an event: a person (id + role) or the system (rules, timed events).
struct Actor {
  std::string_view id = {};
  Role role = Role::kCsm;
};

// Answers "is `actor` up the escalation chain of `owner`" for transitions that allow
// escalation_chain. The escalation module implements it from the organisation graph.
class Authority {
 public:
  virtual ~Authority() = default;
  virtual bool IsAbove(const Actor& actor, std::string_view owner) const = 0;
};

// Until an organisation is loaded: team leads, VPs, the CEO and admins are above any owner.
class RoleAuthority final : public Authority {
 public:
  bool IsAbove(const Actor& actor, std::string_view owner) const override;
};

struct PlaybookTaskDef {
  std::string title = {};
  absl::Duration due_offset = absl::ZeroDuration();  // from the CTA's creation
  Role owner_role = Role::kCsm;
};
struct PlaybookDef {
  std::string name;
  std::vector<PlaybookTaskDef> tasks;
};

struct CtaStoreOptions {
  // One lifecycle per CTA type (Lifecycle::types()); one with no types is the default.
  // Without a default, Lifecycle::Default() is used.
  std::vector<Lifecycle> lifecycles;
  std::vector<std::string> custom_types;  // besides Risk, Lifecycle, Expansion, Activity, Objective
  std::vector<PlaybookDef> playbooks;
  std::shared_ptr<const Authority> authority;  // null: RoleAuthority
  bool audit = true;  // false keeps no log (benchmarks of the bare transition path)
};

struct OpenCta {
  std::string_view account = {};
  std::string_view type = "Risk";
  std::string_view reason = {};
  RiskDomain domain = RiskDomain::kNone;
  int priority = 2;  // 0 (highest) .. 255
  std::string_view owner = {};
  absl::Time due = absl::InfiniteFuture();  // infinite: no due date
  std::string_view playbook = {};           // empty: no tasks
};

struct CtaUpdate {
  std::optional<int> priority = std::nullopt;
  std::optional<absl::Time> due = std::nullopt;  // InfiniteFuture clears the due date
  std::optional<std::string_view> owner = std::nullopt;
};

struct FireArgs {
  std::string_view reason = {};
  absl::Time until = absl::InfinitePast();  // snooze end; required by snoozing events
};

// One audit record. kind selects the meaning of the payload fields:
//   kOpen:       s0 account, s1 reason, s2 owner, s3 playbook (-1), t0 due, a type, b domain,
//                c priority, to initial status
//   kUpdate:     a mask (1 priority, 2 due, 4 owner), c priority, t0 due, s2 owner
//   kTransition: event, from, to, s0 reason (-1), t0 snooze until
//   kTask:       s0 task index, a done
//   kComment:    s0 text
// actor is the interned actor id (the source for kOpen), role its Role.
struct AuditRecord {
  enum Kind : uint8_t { kOpen, kUpdate, kTransition, kTask, kComment };
  int64_t time = 0;
  int64_t t0 = kNoTime;
  int32_t cta = -1;
  int32_t actor = -1;
  int32_t s0 = -1, s1 = -1, s2 = -1, s3 = -1;
  uint8_t kind = kOpen;
  uint8_t event = 0, from = 0, to = 0, role = 0;
  uint8_t a = 0, b = 0, c = 0;
};
static_assert(sizeof(AuditRecord) == 48);

struct CtaComment {
  CtaId cta;
  int64_t time;
  int32_t author;
  int32_t text;
};

// Outcome of a batch: rows are atomic, so a rejected row changed nothing.
struct BatchResult {
  int64_t applied = 0;
  std::vector<std::pair<int64_t, absl::Status>> rejected;  // (row, why)
};

struct TimedResult {
  int64_t woken = 0;
  int64_t breached = 0;
};

class CtaStore {
 public:
  static constexpr uint8_t kFlagged = 1, kSnoozed = 2, kBreached = 4;

  // A store is one large object whose indexes refer to its own columns: it lives behind a
  // pointer and is neither copied nor moved.
  static absl::StatusOr<std::unique_ptr<CtaStore>> Create(CtaStoreOptions options);
  // Rebuilds a store from a log and its string table (as written by audit() / strings()).
  static absl::StatusOr<std::unique_ptr<CtaStore>> Replay(CtaStoreOptions options,
                                                          std::span<const AuditRecord> log,
                                                          std::span<const std::string> strings);

  CtaStore(const CtaStore&) = delete;
  CtaStore& operator=(const CtaStore&) = delete;
  ~CtaStore();

  // Opens a CTA in its lifecycle's initial status with the playbook's tasks attached.
  // AlreadyExists (naming the open CTA) when one with the same account, type and reason is open.
  absl::StatusOr<CtaId> Open(const OpenCta& cta, const Actor& by, absl::Time at);
  // The open CTA with this account, type and reason (dedup), in O(1).
  std::optional<CtaId> FindOpen(std::string_view account, std::string_view type,
                                std::string_view reason) const;
  // FindOpen for many accounts with one type and reason: out[i] is the open CTA of
  // accounts[i], or -1. The lookups are pipelined (each probe prefetched a few accounts
  // ahead), which is what the rules engine's millions of dedup checks a day need.
  void FindOpenBatch(std::span<const std::string_view> accounts, std::string_view type,
                     std::string_view reason, std::span<CtaId> out) const;
  absl::Status Update(CtaId id, const CtaUpdate& update, const Actor& by, absl::Time at);
  absl::Status Fire(CtaId id, std::string_view event, const Actor& by, absl::Time at,
                    const FireArgs& args = {});
  // The same event for many CTAs (names resolved once per lifecycle).
  BatchResult FireBatch(std::span<const CtaId> ids, std::string_view event, const Actor& by,
                        absl::Time at);
  // Closes through the lifecycle's event leading to `closed_status`.
  absl::Status Close(CtaId id, std::string_view closed_status, const Actor& by, absl::Time at,
                     std::string_view reason = {});
  absl::Status SetTaskDone(CtaId id, int task, bool done, const Actor& by, absl::Time at);
  absl::Status AddComment(CtaId id, std::string_view text, const Actor& by, absl::Time at);
  // Fires the snooze-expiry event of every CTA snoozed until <= as_of and the due-breach
  // event of every open CTA due <= as_of and not yet breached, as the system, in id order.
  // Idempotent: a second call with the same as_of fires nothing.
  TimedResult FireTimedEvents(absl::Time as_of);

  // Reading.
  int64_t size() const { return static_cast<int64_t>(status_.size()); }
  bool Contains(CtaId id) const { return id >= 0 && id < size(); }
  const Lifecycle& lifecycle(CtaId id) const { return lifecycles_[lifecycle_of_type_[type_[id]]]; }
  std::string_view status_name(CtaId id) const { return lifecycle(id).status_name(status_[id]); }
  CtaCategory category(CtaId id) const { return lifecycle(id).category(status_[id]); }
  bool IsOpen(CtaId id) const { return category(id) == CtaCategory::kOpen; }
  bool flagged(CtaId id) const { return (flags_[id] & kFlagged) != 0; }
  bool snoozed(CtaId id) const { return (flags_[id] & kSnoozed) != 0; }
  bool breached(CtaId id) const { return (flags_[id] & kBreached) != 0; }
  std::string_view account(CtaId id) const { return str(account_[id]); }
  std::string_view type_name(CtaId id) const { return type_names_[type_[id]]; }
  std::string_view reason(CtaId id) const { return str(reason_[id]); }
  std::string_view owner(CtaId id) const { return str(owner_[id]); }
  std::string_view source(CtaId id) const { return str(source_[id]); }  // rule id or person
  // The role of whoever opened the CTA: kSystem for rules and timed CTAs.
  Role source_role(CtaId id) const { return static_cast<Role>(source_role_[id]); }
  // Opened by a person rather than by a rule (the risk scorecard's "manual" CTAs).
  bool manual(CtaId id) const { return source_role(id) != Role::kSystem; }
  std::string_view snooze_reason(CtaId id) const { return str(snooze_reason_[id]); }
  RiskDomain domain(CtaId id) const { return static_cast<RiskDomain>(domain_[id]); }
  int priority(CtaId id) const { return priority_[id]; }
  int task_count(CtaId id) const { return task_count_[id]; }
  const PlaybookTaskDef& task(CtaId id, int i) const;
  bool task_done(CtaId id, int i) const { return task_done_[task_first_[id] + i] != 0; }
  int64_t task_due(CtaId id, int i) const;  // created + offset, microseconds
  std::span<const CtaComment> comments() const { return comments_; }

  // Columns, one entry per CTA id; times in microseconds (kNoTime: unset).
  std::span<const uint8_t> status_column() const { return status_; }
  std::span<const uint8_t> flags_column() const { return flags_; }
  std::span<const uint8_t> type_column() const { return type_; }
  std::span<const uint8_t> domain_column() const { return domain_; }
  std::span<const uint8_t> priority_column() const { return priority_; }
  std::span<const int32_t> account_column() const { return account_; }
  std::span<const int32_t> reason_column() const { return reason_; }
  std::span<const int32_t> owner_column() const { return owner_; }
  std::span<const int32_t> source_column() const { return source_; }
  std::span<const uint8_t> source_role_column() const { return source_role_; }
  std::span<const int32_t> snooze_reason_column() const { return snooze_reason_; }
  std::span<const int32_t> playbook_column() const { return playbook_; }
  std::span<const int64_t> created_column() const { return created_; }
  std::span<const int64_t> due_column() const { return due_; }
  std::span<const int64_t> started_column() const { return started_; }
  std::span<const int64_t> closed_column() const { return closed_; }
  std::span<const int64_t> flagged_at_column() const { return flagged_at_; }
  std::span<const int64_t> snooze_until_column() const { return snooze_until_; }
  std::span<const int64_t> updated_column() const { return updated_; }
  std::span<const uint8_t> task_done_column() const { return task_done_; }

  // Open CTAs of an account (newest first), through a per-account chain: no scan.
  std::vector<CtaId> OpenOfAccount(std::string_view account) const;
  // Open CTAs in a risk domain, in id order (a column scan).
  std::vector<CtaId> OpenOfDomain(RiskDomain domain) const;
  // Flagged open CTAs in id order; flagged_at_column() gives when, owner() and domain() who.
  std::vector<CtaId> Flagged() const;

  std::span<const AuditRecord> audit() const { return log_; }
  std::span<const std::string> strings() const { return strings_; }
  std::string_view str(int32_t s) const { return s < 0 ? std::string_view() : strings_[s]; }
  // Bytes held by the store's containers (capacity, not size): columns, log, strings, indexes.
  int64_t BytesUsed() const;

 private:
  CtaStore();
  struct DedupKey {
    int32_t account, reason;
    uint8_t type;
    bool operator==(const DedupKey&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const DedupKey& k) {
      return H::combine(std::move(h), k.account, k.reason, k.type);
    }
  };
  // The string index holds 4-byte ids and hashes through the strings they point into, so
  // the store keeps no second copy of any string. The dedup index keeps its keys inline: a
  // probe then needs no load from the CTA columns, which is what lets FindOpenBatch
  // prefetch it.
  struct StringIdHash {
    using is_transparent = void;
    const std::vector<std::string>* strings;
    size_t operator()(int32_t id) const { return (*this)(std::string_view((*strings)[id])); }
    size_t operator()(std::string_view s) const {
      return absl::Hash<absl::string_view>{}(ToAbsl(s));
    }
  };
  struct StringIdEq {
    using is_transparent = void;
    const std::vector<std::string>* strings;
    std::string_view get(int32_t id) const { return (*strings)[id]; }
    std::string_view get(std::string_view s) const { return s; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return get(a) == get(b);
    }
  };
  int32_t Intern(std::string_view s);
  int32_t Lookup(std::string_view s) const;  // -1 if never interned
  absl::Status CheckId(CtaId id) const;
  bool Allowed(const Lifecycle::Edge& edge, CtaId id, const Actor& by, int32_t actor_id) const;
  absl::Status Forbidden(CtaId id, std::string_view what, const Actor& by) const;
  absl::Status PrepareTransition(CtaId id, int event, const Actor& by, int32_t actor_id, int64_t at,
                                 const FireArgs& args, AuditRecord* rec) const;
  absl::Status CheckGuard(const cel::Program& guard, CtaId id, std::string_view event,
                          const Actor& by, int32_t actor_id, int64_t at,
                          const FireArgs& args) const;
  // The one place that changes state: live calls and Replay both go through it.
  void Apply(const AuditRecord& rec);
  absl::Status CheckRecord(const AuditRecord& rec, int64_t index) const;
  void Commit(const AuditRecord& rec);

  // Configuration.
  std::vector<Lifecycle> lifecycles_;
  std::vector<std::string> type_names_;
  std::vector<uint8_t> lifecycle_of_type_;
  std::vector<PlaybookDef> playbooks_;
  std::shared_ptr<const Authority> authority_;
  bool audit_enabled_ = true;

  // Interned strings (accounts, reasons, people, texts), shared with the log.
  std::vector<std::string> strings_;
  absl::flat_hash_set<int32_t, StringIdHash, StringIdEq> string_ids_;

  // One entry per CTA.
  std::vector<uint8_t> status_, flags_, type_, domain_, priority_, task_count_, source_role_;
  std::vector<int32_t> account_, reason_, owner_, source_, snooze_reason_, playbook_;
  std::vector<int32_t> task_first_, next_of_account_;
  std::vector<int64_t> created_, due_, started_, closed_, flagged_at_, snooze_until_, updated_;
  std::vector<uint8_t> task_done_;                   // all CTAs' tasks, from task_first_
  std::vector<CtaId> account_head_;                  // by the account's string id; -1: none
  absl::flat_hash_map<DedupKey, CtaId> open_index_;  // the open CTA of each key
  std::vector<CtaComment> comments_;
  std::vector<AuditRecord> log_;
};

}  // namespace cscore

#endif  // CSCORE_CTA_STORE_H_

// The CTA store as a Store keeps it: the audit table is the CTA state. CtaLog rebuilds a
// CtaStore by replaying the stored rows (CtaStore::Replay: a pure fold, no authorization or
// guard is re-run, so past accepted changes stay accepted) and turns what the store appends
// afterwards into rows numbered on from the log.
//
// A row names everything by text (statuses, events, types, people), with the record's
// remaining fields in `detail`, a flat JSON object:
//   kind      "open" | "update" | "transition" | "task" | "comment" (always)
//   role      the actor's role (always)
//   us        the exact time in microseconds, when `time` (seconds) is not exact
//   open:       type, domain, priority, owner?, playbook?, due? (microseconds)
//   update:     priority?, due? (null: cleared), owner? (null: cleared)
//   transition: until? (snooze end, microseconds)
//   task:       task (index), done (bool)
// The row's reason is the CTA's reason for "open", the event's reason for transitions and
// the text of a comment.
#ifndef CSCORE_SRC_ENGINE_CTA_LOG_H_
#define CSCORE_SRC_ENGINE_CTA_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cscore/cta/store.h"
#include "cscore/engine/persist.h"

namespace cscore::engine_internal {

// A CTA reaching a closed status, as the rules' cooldowns read it.
struct CtaClose {
  CtaId cta;
  absl::CivilDay day;
};

class CtaLog {
 public:
  // The store that replaying `rows` (the whole log, seq 1..n) gives. DataLoss naming the row
  // when a row does not fit the configuration (an unknown type, status or event).
  static absl::StatusOr<std::unique_ptr<CtaLog>> Restore(const CtaStoreOptions& options,
                                                         std::vector<AuditRow> rows,
                                                         bool keep_rows = false);

  CtaStore& store() { return *store_; }
  const CtaStore& store() const { return *store_; }
  int64_t next_seq() const { return next_seq_; }

  // Rows for the records the store appended since Restore or the previous call.
  std::vector<AuditRow> TakeNewRows();

  // The rows Restore read (keep_rows), then those TakeNewRows made.
  const std::vector<AuditRow>& rows() const { return rows_; }

  // Microseconds of the last "acknowledge" event / the last change that ended the CTA's
  // flag (an unflag or a close); kNoTime when none.
  int64_t acknowledged_at(CtaId id) const;
  int64_t flag_ended_at(CtaId id) const;
  // Every close in the log, in log order.
  const std::vector<CtaClose>& closes() const { return closes_; }

 private:
  CtaLog() = default;
  void Track(const AuditRecord& r);

  std::unique_ptr<CtaStore> store_;
  std::vector<std::string> playbook_names_;
  int64_t next_seq_ = 1;
  size_t converted_ = 0;  // records of store_->audit() already turned into rows
  bool keep_rows_ = false;
  std::vector<AuditRow> rows_;
  std::vector<uint8_t> status_;  // per CTA, as of the last converted record
  std::vector<int64_t> ack_, flag_end_;
  std::vector<CtaClose> closes_;
};

}  // namespace cscore::engine_internal

#endif  // CSCORE_SRC_ENGINE_CTA_LOG_H_

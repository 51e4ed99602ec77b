// The 8-domain risk scorecard: green / yellow / red per account and domain.
//
// A domain's status is the worst of its signals (conditions or thresholds that fire yellow
// or red) and of the open CTAs in that domain: an open manual risk CTA makes it at least
// yellow, a flagged one makes it red. The overall status is the worst domain; the weekly
// review list holds every red scorecard above an ARR threshold, largest ARR at risk first.
//
//   absl::StatusOr<cscore::RiskScorecard> card = cscore::RiskScorecard::Compile(def, compile_cel);
//   auto batch = card->Evaluate({frame, &history, as_of}, cscore::OpenRiskCtas(store, frame));
//   auto review = cscore::ReviewList(*batch, frame, "arr", 100000.0);
#ifndef CSCORE_RISK_SCORECARD_H_
#define CSCORE_RISK_SCORECARD_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cscore/frame/frame.h"
#include "cscore/risk/domains.h"
#include "cscore/risk/predicate.h"

namespace cscore {

// A signal fires `level` for every account where it holds. Exactly one of `condition`
// (an expression compiled by the PredicateCompiler, normally CEL) or `threshold`.
struct RiskSignalDef {
  std::string name;
  RiskStatus level = RiskStatus::kYellow;
  std::string condition;
  std::optional<ThresholdDef> threshold;
  SourceRef at;  // where the condition text sits, for error messages
};

struct RiskDomainDef {
  RiskDomain domain = RiskDomain::kHabit;
  std::string owner_team;  // empty: DefaultOwnerTeam(domain)
  std::vector<RiskSignalDef> signals;
};

// Domains not listed keep their default owner and no signals. Each domain at most once.
struct RiskScorecardDef {
  std::vector<RiskDomainDef> domains;
  std::string risk_cta_type = "Risk";  // CTAs of this type count for their domain
};

// An open CTA as the scorecard sees it (the CTA store provides these rows).
struct RiskCtaRef {
  size_t row = 0;  // frame row of the account
  std::string_view type;
  RiskDomain domain = RiskDomain::kHabit;
  bool manual = false;   // opened by a person, not by a rule
  bool flagged = false;  // a request for help
};

// Columnar result: one status byte per account and domain, plus the overall roll-up.
class RiskBatch {
 public:
  size_t num_accounts() const { return overall_.size(); }
  std::span<const uint8_t> domain(RiskDomain d) const { return status_[DomainIndex(d)]; }
  RiskStatus At(size_t row, RiskDomain d) const {
    return static_cast<RiskStatus>(status_[DomainIndex(d)][row]);
  }
  std::span<const uint8_t> overall() const { return overall_; }  // worst-of, a RiskStatus
  std::span<const uint8_t> red_count() const { return red_; }
  std::span<const uint8_t> yellow_count() const { return yellow_; }

 private:
  friend class RiskScorecard;
  std::array<std::vector<uint8_t>, kNumRiskDomains> status_;
  std::vector<uint8_t> overall_, red_, yellow_;
};

class RiskScorecard {
 public:
  // Validates the definition and compiles every signal. `compile` handles `condition`
  // signals and may be empty when none is used. Threshold signals are checked against
  // `schema` / `history_metrics`. Errors name the domain and signal (and the config
  // location when `at` is set).
  static absl::StatusOr<RiskScorecard> Compile(const RiskScorecardDef& def,
                                               const PredicateCompiler& compile,
                                               std::span<const ColumnSpec> schema,
                                               std::span<const std::string> history_metrics);

  std::string_view owner_team(RiskDomain d) const { return owners_[DomainIndex(d)]; }  // d != kNone

  // A CTA whose row is out of range is an error (and no batch is produced).
  absl::StatusOr<RiskBatch> Evaluate(const PredicateInput& input,
                                     std::span<const RiskCtaRef> open_ctas) const;

 private:
  struct Signal {
    std::string name;
    RiskDomain domain;
    RiskStatus level;
    std::shared_ptr<const BatchPredicate> predicate;
  };
  std::array<std::string, kNumRiskDomains> owners_;
  std::vector<Signal> signals_;
  std::string risk_cta_type_;
};

struct ReviewItem {
  size_t row = 0;
  std::string_view account_id;
  double arr = 0;           // the ARR at risk
  uint8_t red_domains = 0;  // bit d set when domain d is red
};

// The open CTAs of `store` as Evaluate reads them, in id order: `manual` when a person
// opened the CTA (CtaStore::manual), `flagged` as the store has it. CTAs of accounts that are
// not in the frame are left out and counted in `*skipped` (when given). The refs point into
// the store: keep it alive and unchanged while they are used.
std::vector<RiskCtaRef> OpenRiskCtas(const CtaStore& store, const AccountFrame& frame,
                                     int64_t* skipped = nullptr);

// Red accounts with ARR >= min_arr, by ARR descending (ties by account id). The ARR column
// must be numeric; a red account with missing ARR is an error naming it.
absl::StatusOr<std::vector<ReviewItem>> ReviewList(const RiskBatch& batch,
                                                   const AccountFrame& frame,
                                                   std::string_view arr_column, double min_arr);

}  // namespace cscore

#endif  // CSCORE_RISK_SCORECARD_H_

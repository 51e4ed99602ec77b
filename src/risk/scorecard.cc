#include "cscore/risk/scorecard.h"

#include <algorithm>
#include <cmath>

#include "cscore/base/strings.h"

namespace cscore {
namespace {

std::string SignalContext(const RiskDomainDef& d, const RiskSignalDef& s) {
  std::string where = s.at.source.empty() && s.at.line == 0
                          ? std::string()
                          : StrCat(s.at.source, ":", s.at.line, ":", s.at.column, ": ");
  return StrCat(where, "domain ", RiskDomainName(d.domain), ", signal '", s.name, "': ");
}

}  // namespace

absl::StatusOr<RiskScorecard> RiskScorecard::Compile(const RiskScorecardDef& def,
                                                     const PredicateCompiler& compile,
                                                     std::span<const ColumnSpec> schema,
                                                     std::span<const std::string> history_metrics) {
  RiskScorecard card;
  for (RiskDomain d : kAllRiskDomains) card.owners_[DomainIndex(d)] = DefaultOwnerTeam(d);
  if (def.risk_cta_type.empty()) return absl::InvalidArgumentError("risk_cta_type is empty");
  card.risk_cta_type_ = def.risk_cta_type;
  std::array<bool, kNumRiskDomains> seen{};
  for (const RiskDomainDef& d : def.domains) {
    const int di = DomainIndex(d.domain);
    if (di < 0 || di >= kNumRiskDomains) return absl::InvalidArgumentError("invalid risk domain");
    if (seen[di]) {
      return absl::InvalidArgumentError(
          StrCat("risk domain ", RiskDomainName(d.domain), " is defined twice"));
    }
    seen[di] = true;
    if (!d.owner_team.empty()) card.owners_[di] = d.owner_team;
    StringSet names;
    for (const RiskSignalDef& s : d.signals) {
      const std::string ctx = SignalContext(d, s);
      if (s.name.empty()) return absl::InvalidArgumentError(StrCat(ctx, "a signal needs a name"));
      if (!names.insert(s.name).second) {
        return absl::InvalidArgumentError(StrCat(ctx, "duplicate signal name"));
      }
      if (s.level == RiskStatus::kGreen) {
        return absl::InvalidArgumentError(StrCat(ctx, "a signal fires yellow or red, not green"));
      }
      if (s.condition.empty() == !s.threshold.has_value()) {
        return absl::InvalidArgumentError(
            StrCat(ctx, "needs exactly one of a condition or a threshold"));
      }
      absl::StatusOr<std::shared_ptr<const BatchPredicate>> p;
      if (s.threshold.has_value()) {
        p = CompileThreshold(*s.threshold, schema, history_metrics);
        if (!p.ok()) return absl::InvalidArgumentError(StrCat(ctx, ToStd(p.status().message())));
      } else {
        if (!compile) {
          return absl::FailedPreconditionError(StrCat(ctx, "no expression compiler was given"));
        }
        p = compile(s.condition);
        if (!p.ok()) {
          return absl::InvalidArgumentError(
              StrCat(LocateExpressionError(s.at, ToStd(p.status().message())), " (domain ",
                     RiskDomainName(d.domain), ", signal '", s.name, "')"));
        }
      }
      card.signals_.push_back({s.name, d.domain, s.level, *std::move(p)});
    }
  }
  return card;
}

absl::StatusOr<RiskBatch> RiskScorecard::Evaluate(const PredicateInput& input,
                                                  std::span<const RiskCtaRef> open_ctas) const {
  const size_t n = input.frame.num_rows();
  for (const RiskCtaRef& c : open_ctas) {
    if (c.row >= n) {
      return absl::OutOfRangeError(
          StrCat("open CTA refers to row ", c.row, " but the frame has ", n, " accounts"));
    }
  }
  RiskBatch batch;
  for (auto& s : batch.status_) s.assign(n, 0);
  std::vector<uint8_t> mask(n);
  for (const Signal& s : signals_) {
    if (absl::Status st = s.predicate->Evaluate(input, mask); !st.ok()) {
      return absl::Status(st.code(), StrCat("domain ", RiskDomainName(s.domain), ", signal '",
                                            s.name, "': ", ToStd(st.message())));
    }
    uint8_t* status = batch.status_[DomainIndex(s.domain)].data();
    // Branch-free worst-of so the loop vectorizes.
    const uint8_t level = static_cast<uint8_t>(s.level);
    for (size_t i = 0; i < n; ++i) status[i] = std::max<uint8_t>(status[i], mask[i] * level);
  }
  for (const RiskCtaRef& c : open_ctas) {
    if (c.type != risk_cta_type_ || c.domain == RiskDomain::kNone) continue;
    RiskStatus floor = c.flagged  ? RiskStatus::kRed
                       : c.manual ? RiskStatus::kYellow
                                  : RiskStatus::kGreen;
    uint8_t& st = batch.status_[DomainIndex(c.domain)][c.row];
    st = std::max(st, static_cast<uint8_t>(floor));
  }
  batch.overall_.assign(n, 0);
  batch.red_.assign(n, 0);
  batch.yellow_.assign(n, 0);
  for (const auto& col : batch.status_) {
    for (size_t i = 0; i < n; ++i) {
      batch.overall_[i] = std::max(batch.overall_[i], col[i]);
      batch.red_[i] += col[i] == 2;
      batch.yellow_[i] += col[i] == 1;
    }
  }
  return batch;
}

std::vector<RiskCtaRef> OpenRiskCtas(const CtaStore& store, const AccountFrame& frame,
                                     int64_t* skipped) {
  std::vector<RiskCtaRef> out;
  int64_t left_out = 0;
  for (CtaId id = 0; id < store.size(); ++id) {
    if (!store.IsOpen(id)) continue;
    const std::optional<size_t> row = frame.RowOf(store.account(id));
    if (!row.has_value()) {
      ++left_out;
      continue;
    }
    out.push_back(
        {*row, store.type_name(id), store.domain(id), store.manual(id), store.flagged(id)});
  }
  if (skipped != nullptr) *skipped = left_out;
  return out;
}

absl::StatusOr<std::vector<ReviewItem>> ReviewList(const RiskBatch& batch,
                                                   const AccountFrame& frame,
                                                   std::string_view arr_column, double min_arr) {
  if (batch.num_accounts() != frame.num_rows()) {
    return absl::InvalidArgumentError(StrCat("risk batch has ", batch.num_accounts(),
                                             " accounts but the frame has ", frame.num_rows()));
  }
  absl::StatusOr<const Column*> col = frame.Get(arr_column);
  if (!col.ok()) return col.status();
  const Column& c = **col;
  if (c.type != ColumnType::kFloat64 && c.type != ColumnType::kInt64) {
    return absl::InvalidArgumentError(
        StrCat("ARR column '", arr_column, "' is ", ColumnTypeName(c.type), ", not numeric"));
  }
  std::vector<ReviewItem> items;
  const auto overall = batch.overall();
  for (size_t i = 0; i < overall.size(); ++i) {
    if (overall[i] != static_cast<uint8_t>(RiskStatus::kRed)) continue;
    if (c.IsMissing(i)) {
      return absl::InvalidArgumentError(StrCat("account '", frame.ids()[i],
                                               "' is red but has no value in ARR column '",
                                               arr_column, "'"));
    }
    const double arr = c.type == ColumnType::kFloat64 ? c.f64[i] : static_cast<double>(c.i64[i]);
    if (arr < min_arr) continue;
    uint8_t mask = 0;
    for (RiskDomain d : kAllRiskDomains) {
      if (batch.At(i, d) == RiskStatus::kRed) mask |= uint8_t{1} << DomainIndex(d);
    }
    items.push_back({i, frame.ids()[i], arr, mask});
  }
  std::sort(items.begin(), items.end(), [](const ReviewItem& a, const ReviewItem& b) {
    if (a.arr != b.arr) return a.arr > b.arr;
    return a.account_id < b.account_id;
  });
  return items;
}

}  // namespace cscore

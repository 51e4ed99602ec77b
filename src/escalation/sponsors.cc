#include "cscore/escalation/sponsors.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include "absl/strings/str_format.h"
#include "boost/graph/adjacency_list.hpp"
#include "boost/graph/successive_shortest_path_nonnegative_weights.hpp"
#include "escalation/located.h"

namespace cscore {
namespace {

using escalation_internal::LocatedError;

using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
using FlowGraph = boost::adjacency_list<
    boost::vecS, boost::vecS, boost::directedS, boost::no_property,
    boost::property<
        boost::edge_capacity_t, int64_t,
        boost::property<boost::edge_residual_capacity_t, int64_t,
                        boost::property<boost::edge_reverse_t, Traits::edge_descriptor,
                                        boost::property<boost::edge_weight_t, int64_t>>>>>;
using FlowEdge = boost::graph_traits<FlowGraph>::edge_descriptor;

constexpr int kStrategicUnits = 3;
// Keeps quarterly units (and the flow graph's load arcs) within int range.
constexpr double kMaxCapacityPerWeek = 10000;

// Accounts of one tier that the objective cannot tell apart.
struct Class {
  int preferred = -1;  // sponsor index reached at zero relationship cost
  int64_t other_cost = 0;
  std::vector<int> accounts;  // indices into the input, by account id
};

class FlowBuilder {
 public:
  explicit FlowBuilder(int nodes) : g_(nodes) {}
  FlowEdge Add(int from, int to, int64_t capacity, int64_t cost) {
    FlowEdge e = boost::add_edge(from, to, g_).first;
    FlowEdge r = boost::add_edge(to, from, g_).first;
    boost::put(boost::edge_capacity, g_, e, capacity);
    boost::put(boost::edge_capacity, g_, r, 0);
    boost::put(boost::edge_weight, g_, e, cost);
    boost::put(boost::edge_weight, g_, r, -cost);
    boost::put(boost::edge_reverse, g_, e, r);
    boost::put(boost::edge_reverse, g_, r, e);
    return e;
  }
  void Solve(int source, int sink) {
    boost::successive_shortest_path_nonnegative_weights(g_, source, sink);
  }
  int64_t Flow(FlowEdge e) const {
    return boost::get(boost::edge_capacity, g_, e) -
           boost::get(boost::edge_residual_capacity, g_, e);
  }

 private:
  FlowGraph g_;
};

// One stage: assigns accounts of `classes` (each taking `units` check-ins) onto sponsors with
// `base` units already held; returns the sponsor index per account (-1 unassigned).
void SolveStage(const std::vector<Class>& classes, int units, const std::vector<int>& capacity,
                std::vector<int>& base, const SponsorCosts& costs, std::vector<int>& sponsor_of) {
  const int num_sponsors = static_cast<int>(capacity.size());
  const int source = 0, sink = 1, hub = 2, first_sponsor = 3;
  const int first_class = first_sponsor + num_sponsors;
  FlowBuilder flow(first_class + static_cast<int>(classes.size()));
  std::vector<FlowEdge> direct(classes.size()), via_hub(classes.size()), hub_out(num_sponsors);
  std::vector<bool> has_direct(classes.size(), false);
  int64_t total = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    const int64_t n = static_cast<int64_t>(classes[c].accounts.size());
    total += n;
    const int node = first_class + static_cast<int>(c);
    flow.Add(source, node, n, 0);
    if (classes[c].preferred >= 0) {
      direct[c] = flow.Add(node, first_sponsor + classes[c].preferred, n, 0);
      has_direct[c] = true;
    }
    via_hub[c] = flow.Add(node, hub, n, classes[c].other_cost);
  }
  for (int s = 0; s < num_sponsors; ++s) {
    hub_out[s] = flow.Add(hub, first_sponsor + s, total, 0);
    // Convex load cost: one arc per run of accounts with the same marginal cost.
    const int fit = std::max(0, (capacity[s] - base[s]) / units);
    int64_t run_cost = -1;
    int64_t run_length = 0;
    for (int k = 1; k <= fit; ++k) {
      const int64_t marginal = LoadCost(base[s] + k * units, capacity[s], costs) -
                               LoadCost(base[s] + (k - 1) * units, capacity[s], costs);
      if (marginal != run_cost && run_length > 0) {
        flow.Add(first_sponsor + s, sink, run_length, run_cost);
        run_length = 0;
      }
      run_cost = marginal;
      ++run_length;
    }
    if (run_length > 0) flow.Add(first_sponsor + s, sink, run_length, run_cost);
  }
  flow.Solve(source, sink);

  std::vector<int64_t> hub_left(num_sponsors);
  for (int s = 0; s < num_sponsors; ++s) hub_left[s] = flow.Flow(hub_out[s]);
  for (size_t c = 0; c < classes.size(); ++c) {
    const std::vector<int>& accounts = classes[c].accounts;
    size_t next = 0;
    if (has_direct[c]) {
      for (int64_t k = flow.Flow(direct[c]); k > 0; --k) {
        sponsor_of[accounts[next++]] = classes[c].preferred;
        base[classes[c].preferred] += units;
      }
    }
    int64_t through_hub = flow.Flow(via_hub[c]);
    for (int s = 0; s < num_sponsors && through_hub > 0; ++s) {
      const int64_t take = std::min(through_hub, hub_left[s]);
      for (int64_t k = 0; k < take; ++k) sponsor_of[accounts[next++]] = s;
      base[s] += static_cast<int>(take) * units;
      hub_left[s] -= take;
      through_hub -= take;
    }
  }
}

}  // namespace

absl::CivilDay NextCheckin(absl::CivilDay since, int cadence_months, absl::CivilDay as_of) {
  const int step = std::max(1, cadence_months);
  if (as_of <= since) return since;
  // Jump close to as_of, then step forward month by month of the cadence.
  const absl::civil_diff_t months = absl::CivilMonth(as_of) - absl::CivilMonth(since);
  absl::civil_diff_t k = std::max<absl::civil_diff_t>(0, months / step - 1);
  while (true) {
    const absl::CivilMonth m = absl::CivilMonth(since) + k * step;
    const int last_day =
        static_cast<int>(absl::CivilDay(absl::CivilMonth(m + 1)) - absl::CivilDay(m));
    const absl::CivilDay day(m.year(), m.month(), std::min(since.day(), last_day));
    if (day >= as_of) return day;
    ++k;
  }
}

std::vector<SponsorCadence> CheckInCadences(const SponsorPlan& plan) {
  std::vector<SponsorCadence> out;
  out.reserve(plan.assigned.size());
  for (const SponsorAssignment& a : plan.assigned) {
    out.push_back({a.account_id, a.sponsor_id, a.cadence_months});
  }
  return out;
}

int QuarterlyCapacity(double capacity_per_week) {
  return static_cast<int>(std::floor(13.0 * capacity_per_week + 1e-9));
}

int64_t LoadCost(int units, int quarterly_capacity, const SponsorCosts& costs) {
  const int64_t bands = std::max(1, costs.bands);
  const int64_t band = std::max<int64_t>(1, (quarterly_capacity + bands - 1) / bands);
  // sum over u < units of floor(u / band)
  const int64_t q = units / band, r = units % band;
  return costs.imbalance * (band * q * (q - 1) / 2 + r * q);
}

absl::StatusOr<SponsorPlan> AssignSponsors(const SponsorPoolDef& pool,
                                           std::span<const SponsorAccount> accounts) {
  const SponsorCosts& costs = pool.costs;
  if (costs.break_relationship < 0 || costs.no_relationship < 0 || costs.imbalance < 0 ||
      costs.bands < 1) {
    return LocatedError(pool.loc, "sponsor costs must not be negative and bands at least 1");
  }
  StringMap<int> sponsor_index;
  std::vector<int> capacity;
  for (const SponsorDef& s : pool.sponsors) {
    if (s.capacity_per_week > kMaxCapacityPerWeek) {
      return LocatedError(s.loc, absl::StrFormat("sponsor '%s': capacity %g is above %g check-ins "
                                                 "a week",
                                                 s.id, s.capacity_per_week, kMaxCapacityPerWeek));
    }
    if (!std::isfinite(s.capacity_per_week) || s.capacity_per_week < 0) {
      return LocatedError(s.loc, absl::StrFormat("sponsor '%s': capacity %g is below zero or not "
                                                 "a number (check-ins a week)",
                                                 s.id, s.capacity_per_week));
    }
    if (!sponsor_index.emplace(s.id, static_cast<int>(capacity.size())).second) {
      return LocatedError(s.loc, StrCat("duplicate sponsor '", s.id, "'"));
    }
    capacity.push_back(QuarterlyCapacity(s.capacity_per_week));
  }
  auto sponsor_of_name = [&](const SponsorAccount& a, const std::string& name,
                             std::string_view column) -> absl::StatusOr<int> {
    if (name.empty()) return -1;
    auto it = sponsor_index.find(name);
    if (it == sponsor_index.end()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "account %s, column %s: '%s' is not in the sponsor pool", a.account_id, column, name));
    }
    return it->second;
  };

  // Classes per tier, keyed by (preferred sponsor, cost elsewhere); accounts by id.
  SponsorPlan plan;
  std::vector<int> order;
  std::vector<int> tier_of(accounts.size(), -1);  // 0 strategic, 1 enterprise
  std::vector<int> current(accounts.size(), -1);
  StringSet seen;
  for (size_t i = 0; i < accounts.size(); ++i) {
    const SponsorAccount& a = accounts[i];
    if (!seen.insert(a.account_id).second) {
      return absl::InvalidArgumentError(StrCat("account ", a.account_id, ": listed twice"));
    }
    if (!std::isfinite(a.arr)) {
      return absl::InvalidArgumentError(
          StrCat("account ", a.account_id, ", column arr: not a number"));
    }
    absl::StatusOr<int> cur = sponsor_of_name(a, a.current_sponsor, "current_sponsor");
    if (!cur.ok()) return cur.status();
    absl::StatusOr<int> sale = sponsor_of_name(a, a.sale_sponsor, "sale_sponsor");
    if (!sale.ok()) return sale.status();
    current[i] = *cur;
    if (a.arr < pool.min_arr || (a.tier != "strategic" && a.tier != "enterprise")) {
      ++plan.not_eligible;
      continue;
    }
    tier_of[i] = a.tier == "strategic" ? 0 : 1;
    order.push_back(static_cast<int>(i));
  }
  std::sort(order.begin(), order.end(),
            [&](int x, int y) { return accounts[x].account_id < accounts[y].account_id; });
  std::array<std::map<std::pair<int, int64_t>, Class>, 2> classes;
  for (int i : order) {
    const int sale = accounts[i].sale_sponsor.empty()
                         ? -1
                         : sponsor_index.find(accounts[i].sale_sponsor)->second;
    const int preferred = current[i] >= 0 ? current[i] : sale;
    const int64_t other = current[i] >= 0 ? costs.break_relationship : costs.no_relationship;
    Class& c = classes[tier_of[i]][{preferred, other}];
    c.preferred = preferred;
    c.other_cost = other;
    c.accounts.push_back(i);
  }

  std::vector<int> sponsor_of(accounts.size(), -1);
  std::vector<int> load(capacity.size(), 0);
  for (int tier = 0; tier < 2; ++tier) {
    std::vector<Class> list;
    for (auto& [key, c] : classes[tier]) list.push_back(std::move(c));
    SolveStage(list, tier == 0 ? kStrategicUnits : 1, capacity, load, costs, sponsor_of);
  }

  std::array<int, 2> demand = {0, 0}, left = {0, 0};
  for (size_t i = 0; i < accounts.size(); ++i) {
    if (tier_of[i] < 0) continue;
    demand[tier_of[i]] += tier_of[i] == 0 ? kStrategicUnits : 1;
    const int s = sponsor_of[i];
    if (s < 0) {
      plan.unassigned.push_back(accounts[i].account_id);
      ++left[tier_of[i]];
      continue;
    }
    SponsorAssignment out;
    out.account_id = accounts[i].account_id;
    out.sponsor_id = pool.sponsors[s].id;
    out.cadence_months = tier_of[i] == 0 ? 1 : 3;
    out.kept = s == current[i];
    plan.relationship_cost +=
        s == current[i]   ? 0
        : current[i] >= 0 ? costs.break_relationship
        : (!accounts[i].sale_sponsor.empty() && pool.sponsors[s].id == accounts[i].sale_sponsor)
            ? 0
            : costs.no_relationship;
    plan.assigned.push_back(std::move(out));
  }
  for (size_t s = 0; s < capacity.size(); ++s)
    plan.imbalance_cost += LoadCost(load[s], capacity[s], costs);
  plan.load = load;
  if (!plan.unassigned.empty()) {
    const int total_capacity = std::accumulate(capacity.begin(), capacity.end(), 0);
    static constexpr std::array<const char*, 2> kTier = {"strategic", "enterprise"};
    for (int tier = 0; tier < 2; ++tier) {
      if (left[tier] == 0) continue;
      if (!plan.unassigned_reason.empty()) plan.unassigned_reason += "; ";
      plan.unassigned_reason += absl::StrFormat(
          "%d %s account(s) unassigned: %s accounts need %d check-ins a quarter (%d each)",
          left[tier], kTier[tier], kTier[tier], demand[tier], tier == 0 ? kStrategicUnits : 1);
    }
    plan.unassigned_reason += absl::StrFormat(
        "; the pool's capacity is %d check-ins a quarter (13 x check-ins a week, summed over %d "
        "sponsors), strategic accounts placed first and each kept with one sponsor",
        total_capacity, capacity.size());
  }
  return plan;
}

}  // namespace cscore

#include "gpu/perf_check.h"

#include <cmath>
#include <cstdio>
#include <functional>

#include "gpu/latency_fit.h"
#include "gpu/perf_model.h"

namespace gpuslice {
namespace {

class Scorer {
 public:
  explicit Scorer(std::string method) { s_.method = std::move(method); }
  void Add(int b, double sm, double q, double predicted, double measured) {
    const double e = 100.0 * std::fabs(predicted - measured) / measured;
    sum_ += e;
    ++s_.points;
    if (e >= s_.worst_percent) {
      s_.worst_percent = e;
      char buf[160];
      std::snprintf(buf, sizeof buf, "batch %d, sm %g%%, quota %g%%: predicted %.2f ms, measured %.2f ms", b, sm, q,
                    predicted, measured);
      s_.worst_point = buf;
    }
  }
  ErrorStats Done() {
    s_.mape_percent = s_.points ? sum_ / static_cast<double>(s_.points) : 0.0;
    return s_;
  }

 private:
  ErrorStats s_;
  double sum_ = 0;
};

double Linear(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  if (xs.size() == 1 || x <= xs.front()) return ys.front();
  if (x >= xs.back()) return ys.back();
  size_t hi = 1;
  while (xs[hi] < x) ++hi;
  return ys[hi - 1] + (ys[hi] - ys[hi - 1]) * (x - xs[hi - 1]) / (xs[hi] - xs[hi - 1]);
}

}  // namespace

PerfCheckReport CheckProfile(const LatencyProfile& p, double token_window_ms) {
  PerfCheckReport r;
  r.model = p.model();
  r.gpu = p.gpu();
  const auto& sms = p.sm_percents();
  // (a)
  Scorer linear("linear interpolation"), fitted("fitted max(floor, a + k/sm)");
  for (int b : p.batches()) {
    std::vector<double> fit_x, fit_y;
    for (size_t i = 0; i < sms.size(); i += 2) {
      fit_x.push_back(sms[i]);
      fit_y.push_back(p.MeasuredMs(b, sms[i], 100));
    }
    const SmCurve curve = SmCurve::Fit(fit_x, fit_y);
    for (size_t i = 1; i < sms.size(); i += 2) {
      const double measured = p.MeasuredMs(b, sms[i], 100);
      linear.Add(b, sms[i], 100, Linear(fit_x, fit_y, sms[i]), measured);
      fitted.Add(b, sms[i], 100, curve.At(sms[i]), measured);
    }
  }
  r.sm_interpolation = {linear.Done(), fitted.Done()};
  // (b)
  const StructuralModel model = StructuralModel::Fit(p);
  if (!model.has_quota()) return r;
  const double top = sms.back();
  Scorer naive("token window: ceil(L / qW) windows"), ratio("ratio: L(sm, 100) * L(top, q) / L(top, 100)"),
      structural("structural: max(L(sm, 100), L(top, q))");
  for (const ProfilePoint& x : p.Points()) {
    if (x.sm_percent == top || x.quota_percent == 100.0) continue;
    const double solo = p.MeasuredMs(x.batch, x.sm_percent, 100);
    const double top_q = p.MeasuredMs(x.batch, top, x.quota_percent);
    const double top_solo = p.MeasuredMs(x.batch, top, 100);
    if (solo < 0 || top_q < 0 || top_solo < 0) continue;
    naive.Add(x.batch, x.sm_percent, x.quota_percent, TokenWindowLatencyMs(solo, x.quota_percent / 100, token_window_ms),
              x.latency_ms);
    ratio.Add(x.batch, x.sm_percent, x.quota_percent, solo * top_q / top_solo, x.latency_ms);
    // The structural model with the measured solo latency, as RaPP's inputs give it.
    structural.Add(x.batch, x.sm_percent, x.quota_percent,
                   std::max(solo, model.PredictMs(x.batch, top, x.quota_percent)), x.latency_ms);
  }
  r.quota = {naive.Done(), ratio.Done(), structural.Done()};
  return r;
}

nlohmann::ordered_json PerfCheckReport::ToJson() const {
  auto list = [](const std::vector<ErrorStats>& v) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const ErrorStats& e : v) {
      a.push_back({{"method", e.method}, {"mape_percent", e.mape_percent}, {"worst_percent", e.worst_percent},
                   {"worst_point", e.worst_point}, {"points", e.points}});
    }
    return a;
  };
  return {{"model", model}, {"gpu", gpu}, {"sm_interpolation", list(sm_interpolation)}, {"quota", list(quota)}};
}

std::string PerfCheckReport::ToText() const {
  std::string out = model + " on " + gpu + "\n";
  char buf[512];
  auto section = [&](const char* title, const std::vector<ErrorStats>& v) {
    out += title;
    for (const ErrorStats& e : v) {
      std::snprintf(buf, sizeof buf, "  %-48s MAPE %6.2f%%  worst %7.1f%%  (%zu points; worst at %s)\n",
                    e.method.c_str(), e.mape_percent, e.worst_percent, e.points, e.worst_point.c_str());
      out += buf;
    }
  };
  section("(a) SM interpolation at quota 100, fit on every other SM share:\n", sm_interpolation);
  if (quota.empty()) {
    out += "(b) quota: the profile has no quota sweep\n";
  } else {
    section("(b) quota, from the SM sweep at quota 100 and the quota sweep at the largest SM share:\n", quota);
  }
  return out;
}

}  // namespace gpuslice

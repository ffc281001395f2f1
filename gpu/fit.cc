#include "gpu/fit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <tuple>

#include "gpu/latency_fit.h"
#include "gpu/perf_model.h"
#include "gpu/sample_stats.h"
#include "gpu/specs.h"
#include "sim/engine/rng.h"
#include "sim/util/csv.h"
#include "sim/util/error.h"

namespace gpuslice {
namespace {

ErrorStats Score(const std::string& method, const std::vector<std::pair<ProfilePoint, double>>& predictions) {
  ErrorStats e;
  e.method = method;
  double sum = 0;
  for (const auto& [x, predicted] : predictions) {
    const double err = 100.0 * std::fabs(predicted - x.latency_ms) / x.latency_ms;
    sum += err;
    if (err >= e.worst_percent) {
      e.worst_percent = err;
      char buf[160];
      std::snprintf(buf, sizeof buf, "batch %d, sm %g%%, quota %g%%: predicted %.2f ms, measured %.2f ms", x.batch,
                    x.sm_percent, x.quota_percent, predicted, x.latency_ms);
      e.worst_point = buf;
    }
  }
  e.points = predictions.size();
  e.mape_percent = e.points ? sum / static_cast<double>(e.points) : 0.0;
  return e;
}

}  // namespace

Measurements ReadMeasurements(const std::string& path) {
  CsvReader csv(path);
  if (!csv.Next()) throw InputError(path + ": empty file, expected a header line");
  std::vector<std::string> header(csv.fields().begin(), csv.fields().end());
  const bool by_count = CsvReader::FindColumn(header, "sm_percent") < 0 && CsvReader::FindColumn(header, "sm_count") >= 0;
  const char* names[] = {"model", "gpu", "batch", by_count ? "sm_count" : "sm_percent", "quota_percent", "latency_ms"};
  int col[6];
  for (int i = 0; i < 6; ++i) {
    col[i] = CsvReader::FindColumn(header, names[i]);
    if (col[i] < 0) throw LineError(path, csv.line_number(), std::string("missing column '") + names[i] + "'");
  }
  Measurements m;
  std::map<std::tuple<int, double, double>, std::vector<double>> samples;
  while (csv.Next()) {
    csv.RequireFields(static_cast<size_t>(*std::max_element(col, col + 6)) + 1);
    const std::string model(csv.fields()[static_cast<size_t>(col[0])]), gpu(csv.fields()[static_cast<size_t>(col[1])]);
    if (m.model.empty()) m.model = model, m.gpu = gpu;
    if (model != m.model || gpu != m.gpu) throw LineError(path, csv.line_number(), "one model and GPU per file");
    const long long batch = csv.Int(static_cast<size_t>(col[2]), "batch");
    double sm = csv.Double(static_cast<size_t>(col[3]), names[3]);
    const double quota = csv.Double(static_cast<size_t>(col[4]), "quota_percent");
    const double latency = csv.Double(static_cast<size_t>(col[5]), "latency_ms");
    if (by_count) {
      const GpuSpec* spec = FindGpuSpec(gpu);
      if (spec == nullptr) throw LineError(path, csv.line_number(), "sm_count needs a catalogued GPU, not '" + gpu + "'");
      sm = 100.0 * sm / spec->sm_count;
    }
    if (batch < 1 || batch > kMaxProfileBatch || !(sm > 0 && sm <= 100) || !(quota > 0 && quota <= 100) ||
        !(latency > 0 && latency <= 1e9)) {
      throw LineError(path, csv.line_number(),
                      "batch in [1, " + std::to_string(kMaxProfileBatch) +
                          "], SM share and quota in (0, 100], latency_ms in (0, 1e9] (got batch " +
                          std::to_string(batch) + ")");
    }
    samples[{static_cast<int>(batch), sm, quota}].push_back(latency);
    ++m.rows;
  }
  if (samples.empty()) throw InputError(path + ": no measurements");
  for (const auto& [key, values] : samples) {
    AggregatedPoint a;
    a.point = {std::get<0>(key), std::get<1>(key), std::get<2>(key), Quantile(values, 0.5)};
    a.spread_ms = 0.5 * (Quantile(values, 0.75) - Quantile(values, 0.25));
    a.repetitions = static_cast<int>(values.size());
    m.points.push_back(a);
  }
  bool full_quota = false;
  for (const AggregatedPoint& a : m.points) full_quota = full_quota || a.point.quota_percent == 100.0;
  if (!full_quota) throw InputError(path + ": no measurement at quota_percent 100");
  return m;
}

void WriteProfile(const Measurements& m, const std::string& path) {
  const std::string temp = path + ".tmp";
  FILE* f = std::fopen(temp.c_str(), "wb");
  if (f == nullptr) throw InputError(path + ": cannot write");
  std::fputs("model,gpu,batch,sm_percent,quota_percent,latency_ms,spread_ms,repetitions\n", f);
  for (const AggregatedPoint& a : m.points) {
    std::fprintf(f, "%s,%s,%d,%.6g,%.6g,%.6f,%.6f,%d\n", m.model.c_str(), m.gpu.c_str(), a.point.batch,
                 a.point.sm_percent, a.point.quota_percent, a.point.latency_ms, a.spread_ms, a.repetitions);
  }
  if (std::fclose(f) != 0) throw InputError(path + ": cannot write");
  std::filesystem::rename(temp, path);
}

FitReport EvaluateFit(const Measurements& m, double holdout_fraction, uint64_t seed, double token_window_ms) {
  FitReport r;
  r.model = m.model;
  r.gpu = m.gpu;
  r.rows = m.rows;
  r.points = m.points.size();
  // Random hold-out; the fit keeps at least one full-quota point per batch it predicts.
  RngStream rng(seed, "fit/holdout");
  std::vector<ProfilePoint> train, test;
  for (const AggregatedPoint& a : m.points) (rng.Uniform() < holdout_fraction ? test : train).push_back(a.point);
  using Predictions = std::vector<std::pair<ProfilePoint, double>>;
  auto predict_all = [token_window_ms](const std::vector<ProfilePoint>& fit_on, const std::vector<ProfilePoint>& targets,
                                       Predictions* structural, Predictions* token_rule) {
    if (fit_on.empty()) return;
    bool any_full = false;
    for (const ProfilePoint& x : fit_on) any_full = any_full || x.quota_percent == 100.0;
    if (!any_full) return;
    const StructuralModel model = StructuralModel::FitPoints(fit_on);
    for (const ProfilePoint& x : targets) {
      structural->push_back({x, model.PredictMs(x.batch, x.sm_percent, x.quota_percent)});
      const double solo_ms = model.PredictMs(x.batch, x.sm_percent, 100);
      token_rule->push_back({x, TokenWindowLatencyMs(solo_ms, x.quota_percent / 100, token_window_ms)});
    }
  };
  Predictions random_predictions, sm_predictions, random_token, sm_token;
  predict_all(train, test, &random_predictions, &random_token);
  r.random_holdout = Score("random " + std::to_string(static_cast<int>(std::lround(100 * holdout_fraction))) +
                               "% of the points held out",
                           random_predictions);
  // Each SM share held out in turn.
  std::vector<double> sms;
  for (const AggregatedPoint& a : m.points) sms.push_back(a.point.sm_percent);
  std::sort(sms.begin(), sms.end());
  sms.erase(std::unique(sms.begin(), sms.end()), sms.end());
  for (double held : sms) {
    std::vector<ProfilePoint> keep, out;
    for (const AggregatedPoint& a : m.points) (a.point.sm_percent == held ? out : keep).push_back(a.point);
    predict_all(keep, out, &sm_predictions, &sm_token);
  }
  r.sm_holdout = Score("each SM share held out in turn", sm_predictions);
  r.token_rule_random_holdout = Score(r.random_holdout.method + ", token rule", random_token);
  r.token_rule_sm_holdout = Score("each SM share held out, token rule", sm_token);
  return r;
}

nlohmann::ordered_json FitReport::ToJson() const {
  auto e = [](const ErrorStats& s) {
    return nlohmann::ordered_json{{"method", s.method}, {"mape_percent", s.mape_percent},
                                  {"worst_percent", s.worst_percent}, {"worst_point", s.worst_point}, {"points", s.points}};
  };
  return {{"model", model}, {"gpu", gpu}, {"rows", rows}, {"points", points},
          {"random_holdout", e(random_holdout)}, {"sm_holdout", e(sm_holdout)},
          {"token_rule_random_holdout", e(token_rule_random_holdout)},
          {"token_rule_sm_holdout", e(token_rule_sm_holdout)}};
}

std::string FitReport::ToText() const {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s on %s: %ld measurements, %zu points\n", model.c_str(), gpu.c_str(), rows, points);
  std::string out = buf;
  for (const ErrorStats* s : {&random_holdout, &sm_holdout, &token_rule_random_holdout, &token_rule_sm_holdout}) {
    std::snprintf(buf, sizeof buf, "  %-40s MAPE %6.2f%%  worst %7.1f%%  (%zu points; worst at %s)\n", s->method.c_str(),
                  s->mape_percent, s->worst_percent, s->points, s->worst_point.c_str());
    out += buf;
  }
  return out;
}

}  // namespace gpuslice

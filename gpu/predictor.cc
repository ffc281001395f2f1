#include "gpu/predictor.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace gpuslice {
namespace {

class OraclePredictor final : public Predictor {
 public:
  explicit OraclePredictor(const PerfModel& truth) : Predictor("oracle"), truth_(truth) {}
  double PredictMs(int model, int batch, const SliceShape& slice) const override {
    return truth_.BatchLatencyMs(model, batch, slice);
  }

 private:
  const PerfModel& truth_;
};

// Every `stride`-th value, and always the last.
std::set<double> Every(const std::vector<double>& values, int stride) {
  std::set<double> kept;
  for (size_t i = 0; i < values.size(); i += static_cast<size_t>(std::max(1, stride))) kept.insert(values[i]);
  kept.insert(values.back());
  return kept;
}

class ProfilePredictor final : public Predictor {
 public:
  ProfilePredictor(const PerfModel& truth, int sm_stride, int quota_stride)
      : Predictor("profile"), window_ms_(truth.token_window_ms()) {
    for (const LatencyCurve& c : truth.curves()) {
      const LatencyProfile* p = c.profile();
      if (p == nullptr) {
        coarse_.push_back(c);
        continue;
      }
      const std::set<double> sms = Every(p->sm_percents(), sm_stride);
      const std::set<double> quotas = Every(p->quota_percents(), quota_stride);
      std::vector<ProfilePoint> kept;
      for (const ProfilePoint& x : p->Points()) {
        if (sms.count(x.sm_percent) && quotas.count(x.quota_percent)) kept.push_back(x);
      }
      coarse_.push_back(LatencyCurve::FromProfile(
          std::make_shared<LatencyProfile>(LatencyProfile::FromPoints(p->path() + " (coarse)", p->model(), p->gpu(), kept))));
    }
  }
  double PredictMs(int model, int batch, const SliceShape& slice) const override {
    return coarse_[static_cast<size_t>(model)].LatencyMs(batch, slice.sm_percent(), slice.quota, window_ms_);
  }

 private:
  double window_ms_;
  std::vector<LatencyCurve> coarse_;
};

class LearnedPredictor final : public Predictor {
 public:
  explicit LearnedPredictor(const PerfModel& truth) : Predictor("learned"), window_ms_(truth.token_window_ms()) {
    for (const LatencyCurve& c : truth.curves()) {
      curves_.push_back(c);
      fits_.push_back(c.profile() ? std::make_shared<StructuralModel>(StructuralModel::Fit(*c.profile())) : nullptr);
    }
  }
  double PredictMs(int model, int batch, const SliceShape& slice) const override {
    const auto& fit = fits_[static_cast<size_t>(model)];
    if (!fit) return curves_[static_cast<size_t>(model)].LatencyMs(batch, slice.sm_percent(), slice.quota, window_ms_);
    if (!fit->has_quota()) return TokenWindowLatencyMs(fit->SoloMs(batch, slice.sm_percent()), slice.quota, window_ms_);
    return fit->PredictMs(batch, slice.sm_percent(), 100.0 * slice.quota);
  }

 private:
  double window_ms_;
  std::vector<LatencyCurve> curves_;
  std::vector<std::shared_ptr<const StructuralModel>> fits_;
};

class TokenWindowPredictor final : public Predictor {
 public:
  explicit TokenWindowPredictor(const PerfModel& truth) : Predictor("token-window"), truth_(truth) {}
  double PredictMs(int model, int batch, const SliceShape& slice) const override {
    const LatencyCurve& c = truth_.curves()[static_cast<size_t>(model)];
    return TokenWindowLatencyMs(c.SoloMs(batch, slice.sm_percent()), slice.quota, truth_.token_window_ms());
  }

 private:
  const PerfModel& truth_;
};

}  // namespace

std::string PredictorNames() { return "oracle, profile, token-window, learned"; }

bool IsPredictorName(const std::string& name) {
  return name == "oracle" || name == "profile" || name == "token-window" || name == "learned";
}

std::unique_ptr<Predictor> MakePredictor(const PredictorSpec& spec, const PerfModel& truth) {
  if (spec.name == "oracle") return std::make_unique<OraclePredictor>(truth);
  if (spec.name == "profile") return std::make_unique<ProfilePredictor>(truth, spec.sm_stride, spec.quota_stride);
  if (spec.name == "learned") return std::make_unique<LearnedPredictor>(truth);
  if (spec.name == "token-window") return std::make_unique<TokenWindowPredictor>(truth);
  throw std::invalid_argument("unknown predictor '" + spec.name + "' (" + PredictorNames() + ")");
}

}  // namespace gpuslice

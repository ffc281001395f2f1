#include "traces/trace_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/util/interrupt.h"

namespace gpuslice {

TraceStats ComputeTraceStats(ArrivalStream& stream, const std::vector<std::string>& names, size_t top_n) {
  TraceStats s;
  std::vector<long long> per_function(names.size(), 0);
  Arrival a;
  SimTime first = 0, last = 0;
  long long second_bucket = -1, second_count = 0, minute_bucket = -1, minute_count = 0;
  long long peak_second = 0, peak_minute = 0;
  // Welford's running mean and variance of the gaps.
  double gap_mean = 0, gap_m2 = 0;
  long long gaps = 0, in_tokens = 0, out_tokens = 0;
  double in_sum = 0, out_sum = 0;
  while (stream.Next(&a)) {
    if ((s.requests & 0xFFFF) == 0xFFFF) ThrowIfInterrupted();  // a stream may generate without reading
    if (s.requests == 0) {
      first = a.time;
    } else {
      const double gap = SimToSeconds(a.time - last);
      ++gaps;
      const double delta = gap - gap_mean;
      gap_mean += delta / static_cast<double>(gaps);
      gap_m2 += delta * (gap - gap_mean);
    }
    last = a.time;
    ++s.requests;
    ++per_function[static_cast<size_t>(a.function)];
    const long long sec = a.time / kNsPerSecond, min = a.time / (60 * kNsPerSecond);
    if (sec != second_bucket) second_bucket = sec, second_count = 0;
    if (min != minute_bucket) minute_bucket = min, minute_count = 0;
    peak_second = std::max(peak_second, ++second_count);
    peak_minute = std::max(peak_minute, ++minute_count);
    if (a.input_tokens >= 0) ++in_tokens, in_sum += a.input_tokens;
    if (a.output_tokens >= 0) ++out_tokens, out_sum += a.output_tokens;
  }
  s.first_s = SimToSeconds(first);
  s.last_s = SimToSeconds(last);
  s.span_s = s.last_s - s.first_s;
  s.mean_rps = s.span_s > 0 ? static_cast<double>(s.requests) / s.span_s : 0.0;
  s.mean_rpm = s.mean_rps * 60.0;
  s.peak_rps = static_cast<double>(peak_second);
  s.peak_rpm = static_cast<double>(peak_minute);
  if (gaps > 1 && gap_mean > 0) s.interarrival_cv = std::sqrt(gap_m2 / static_cast<double>(gaps - 1)) / gap_mean;
  if (in_tokens > 0) s.input_tokens_mean = in_sum / static_cast<double>(in_tokens);
  if (out_tokens > 0) s.output_tokens_mean = out_sum / static_cast<double>(out_tokens);
  std::vector<size_t> order;
  for (size_t f = 0; f < names.size(); ++f) {
    if (per_function[f] > 0) order.push_back(f);
  }
  s.functions = order.size();
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return per_function[x] > per_function[y]; });
  for (size_t i = 0; i < order.size() && i < top_n; ++i) s.top_functions.push_back({names[order[i]], per_function[order[i]]});
  return s;
}

nlohmann::ordered_json TraceStats::ToJson() const {
  nlohmann::ordered_json j;
  j["requests"] = requests;
  j["first_s"] = first_s;
  j["last_s"] = last_s;
  j["span_s"] = span_s;
  j["functions"] = functions;
  j["top_functions"] = nlohmann::ordered_json::array();
  for (const auto& [name, count] : top_functions) j["top_functions"].push_back({{"function", name}, {"requests", count}});
  j["rate_per_second"] = {{"mean", mean_rps}, {"peak", peak_rps}};
  j["rate_per_minute"] = {{"mean", mean_rpm}, {"peak", peak_rpm}};
  j["interarrival_cv"] = interarrival_cv;
  if (input_tokens_mean >= 0) j["input_tokens_mean"] = input_tokens_mean;
  if (output_tokens_mean >= 0) j["output_tokens_mean"] = output_tokens_mean;
  j["skipped_rows"] = skipped_rows;
  j["filtered_rows"] = filtered_rows;
  return j;
}

std::string TraceStats::ToText() const {
  char buf[256];
  std::string out;
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
  };
  line("requests            %lld\n", requests);
  line("span                %.3f s (%.3f .. %.3f)\n", span_s, first_s, last_s);
  line("functions           %zu\n", functions);
  line("rate per second     mean %.3f, peak %.0f\n", mean_rps, peak_rps);
  line("rate per minute     mean %.2f, peak %.0f\n", mean_rpm, peak_rpm);
  line("inter-arrival CV    %.3f\n", interarrival_cv);
  if (input_tokens_mean >= 0) line("tokens (mean)       input %.1f, output %.1f\n", input_tokens_mean, output_tokens_mean);
  if (skipped_rows > 0) line("skipped bad rows    %lld\n", skipped_rows);
  if (filtered_rows > 0) line("filtered rows       %lld\n", filtered_rows);
  out += "top functions:\n";
  for (const auto& [name, count] : top_functions) {
    line("  %10lld  %5.1f%%  ", count, 100.0 * static_cast<double>(count) / static_cast<double>(std::max(1LL, requests)));
    out += name + "\n";
  }
  return out;
}

}  // namespace gpuslice

// Validation against queueing theory, the oracle nobody here wrote.
//
// A fixed pool of c warm instances, batch size 1, container concurrency 1 (so requests wait
// in one FIFO at the activator) and Poisson arrivals is an M/G/c FCFS queue. The simulated
// mean waiting time (arrival to batch start) must match:
//   M/M/1  Wq = ρ / (μ - λ)
//   M/D/1  Wq = ρ / (2μ(1 - ρ))                       (Pollaczek-Khinchine)
//   M/M/c  Wq = C(c, a) / (cμ - λ),  a = λ/μ          (Erlang C)
// within 3% at ρ = 0.5 and 0.9.
//
// Sample sizes. The sample mean of a stationary queue converges slowly at high load; for
// M/M/1 (μ = 1) the time-average number in system has asymptotic variance
// 2ρ(1+ρ)/(1-ρ)^4 per unit time (Whitt, "Planning queueing simulations", 1989): 34,200
// at ρ = 0.9, around a mean of 9. With 8 M customers (T ≈ 8.9 M service times) the relative
// standard error is sqrt(34200 / 8.9e6) / 9 ≈ 0.7%, so 3% is more than 4 standard errors,
// and the initial transient (relaxation time ≈ 380 service times) biases the mean by
// less than 0.01%. M/D/1 and M/M/4 vary less than M/M/1 at the same ρ, and ρ = 0.5
// converges far faster, so the same or smaller sizes give at least the same margin.
// The seed is fixed, so the test is also deterministic.
#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace gpuslice {
namespace {

constexpr double kServiceMs = 10.0;  // μ = 100 per second

double ErlangC(int c, double a) {
  // Erlang B by the stable recursion, then C = B / (1 - ρ(1 - B)).
  double b = 1.0;
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  const double rho = a / c;
  return b / (1.0 - rho * (1.0 - b));
}

struct Case {
  const char* name;
  int servers;
  double rho;
  const char* noise;  // exponential: M/M/c; none: M/D/c
  double customers;
};

double AnalyticWaitMs(const Case& c) {
  const double mu = 1000.0 / kServiceMs;
  const double lambda = c.rho * c.servers * mu;
  if (std::string(c.noise) == "none") {
    return 1000.0 * c.rho / (2.0 * mu * (1.0 - c.rho));  // M/D/1 only
  }
  return 1000.0 * ErlangC(c.servers, lambda / mu) / (c.servers * mu - lambda);
}

class QueueingTest : public ::testing::TestWithParam<Case> {};

TEST_P(QueueingTest, MeanWaitMatchesTheory) {
  const Case& c = GetParam();
  const double mu = 1000.0 / kServiceMs;
  const double lambda = c.rho * c.servers * mu;
  const double duration_s = c.customers / lambda;
  RunResult r = testing::RunInline(testing::FixedServersScenario(c.servers, kServiceMs, lambda, duration_s, c.noise));
  const double expected = AnalyticWaitMs(c);
  const double measured = r.overall.queue_wait_mean_ms;
  std::printf("%s: Wq theory %.4f ms, simulated %.4f ms (ratio %.4f) over %llu requests\n", c.name, expected,
              measured, measured / expected, static_cast<unsigned long long>(r.overall.completed));
  SCOPED_TRACE(std::string(c.name) + ": expected Wq " + std::to_string(expected) + " ms, measured " +
               std::to_string(measured) + " ms over " + std::to_string(r.overall.completed) + " requests");
  EXPECT_EQ(r.overall.dropped_total, 0u);
  EXPECT_EQ(r.overall.completed, r.overall.arrived);
  EXPECT_NEAR(measured / expected, 1.0, 0.03);
  // Little's law holds on every run, exactly up to rounding.
  EXPECT_LT(r.littles_law.relative_error, 1e-9);
  // The servers' utilisation is ρ: busy SM-seconds / (c × SMs × T).
  const double utilisation = r.overall.sm_seconds_busy / (c.servers * 80.0 * r.simulated_s);
  EXPECT_NEAR(utilisation, c.rho, 0.01);
}

INSTANTIATE_TEST_SUITE_P(
    Theory, QueueingTest,
    ::testing::Values(Case{"MM1_rho05", 1, 0.5, "exponential", 1e6}, Case{"MM1_rho09", 1, 0.9, "exponential", 8e6},
                      Case{"MD1_rho05", 1, 0.5, "none", 1e6}, Case{"MD1_rho09", 1, 0.9, "none", 4e6},
                      Case{"MM4_rho05", 4, 0.5, "exponential", 1e6}, Case{"MM4_rho09", 4, 0.9, "exponential", 4e6}),
    [](const ::testing::TestParamInfo<Case>& param_info) { return std::string(param_info.param.name); });

TEST(ErlangC, MatchesKnownValue) {
  // c = 2, a = 1 (ρ = 0.5): C = 1/3.
  EXPECT_NEAR(ErlangC(2, 1.0), 1.0 / 3.0, 1e-12);
  // c = 1 reduces to ρ.
  EXPECT_NEAR(ErlangC(1, 0.7), 0.7, 1e-12);
}

}  // namespace
}  // namespace gpuslice

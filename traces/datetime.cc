#include "traces/datetime.h"

namespace gpuslice {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
long long DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

bool ParseDateTime(std::string_view s, SimTime* out) {
  CalendarTime t;
  if (!ParseCalendarTime(s, &t)) return false;
  // Nanoseconds since 1970 fit in SimTime for 1677-09-21 .. 2262-04-11 only.
  if (t.seconds > INT64_MAX / kNsPerSecond - 1 || t.seconds < INT64_MIN / kNsPerSecond + 1) return false;
  *out = t.seconds * kNsPerSecond + t.nanos;
  return true;
}

bool ParseCalendarTime(std::string_view s, CalendarTime* out) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &month) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || (s[10] != ' ' && s[10] != 'T') || !Digits(s, 11, 2, &hour) || s[13] != ':' ||
      !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return false;
  long long fraction_ns = 0;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    long long scale = 100'000'000;
    size_t digits = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits, scale /= 10) {
      if (digits >= 9) return false;
      fraction_ns += (s[i] - '0') * scale;
    }
    if (digits == 0) return false;
  }
  // An optional zone: "Z", or an offset "+HH:MM" / "-HH:MM" (the 2024 Azure LLM trace).
  long long offset_s = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' && i + 1 == s.size()) {
      ++i;
    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == s.size() && s[i + 3] == ':') {
      int oh, om;
      if (!Digits(s, i + 1, 2, &oh) || !Digits(s, i + 4, 2, &om) || oh > 23 || om > 59) return false;
      offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
      i += 6;
    } else {
      return false;
    }
  }
  if (i != s.size()) return false;
  const long long seconds = DaysFromCivil(year, month, day) * 86400LL + hour * 3600LL + minute * 60LL + second;
  out->seconds = seconds - offset_s;
  out->nanos = static_cast<int32_t>(fraction_ns);
  return true;
}

}  // namespace gpuslice

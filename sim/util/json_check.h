// CheckJsonText: what a JSON parser lets through but a scenario must not hold, found before
// parsing so that positions can be named.
//
// nlohmann's parser keeps the last of duplicate keys (RFC 8259 leaves them undefined), so a
// model named twice would silently be the second; it reports a number too large for a double
// without a position; and a deeply nested document parses but overflows the stack when it is
// copied or printed. This check refuses each with the line and column. Text that is not
// JSON at all is left for the parser to report: the check stops at the first token it cannot
// read.
#ifndef GPUSLICE_SIM_UTIL_JSON_CHECK_H_
#define GPUSLICE_SIM_UTIL_JSON_CHECK_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gpuslice {

// Arrays and objects nested deeper than this are refused. Scenarios nest about 6 deep.
inline constexpr int kMaxJsonDepth = 64;

// Throws InputError "<label>:line:column: ..." on a duplicate key (naming both positions),
// nesting deeper than kMaxJsonDepth, or a number outside a double's range (1e999).
void CheckJsonText(std::string_view text, const std::string& label);

// Parses `text` (REQUIRES: CheckJsonText passed, so no key repeats) keeping the order of
// keys, in time linear in the text: nlohmann's own parser searches an ordered object for
// each key it inserts, so an object of 200,000 members took minutes. Throws nlohmann's
// parse_error on a syntax error, as its parser does.
nlohmann::ordered_json ParseOrderedJsonFast(const std::string& text);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_JSON_CHECK_H_

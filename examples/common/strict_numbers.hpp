// Strict reading of the numbers the examples get as text, from their flags or from the metadata
// of their checkpoints: plain decimal only. CLI11 and std::stoi take a sign, spaces, hex, octal
// or trailing junk, and wrap or clamp what is out of range, so that -1 became 2^64 - 1.
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace examples {

// `text` as a whole number in [min, max] (min >= 0): decimal digits and nothing else.
template <std::integral T>
std::optional<T> parse_whole_number(std::string_view text, T min, T max) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [last, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || last != end) return std::nullopt;  // beyond 2^64 - 1
  if (std::cmp_less(value, min) || std::cmp_greater(value, max)) return std::nullopt;
  return static_cast<T>(value);
}

template <std::integral T>
std::string not_a_whole_number(std::string_view text, T min, T max) {
  return std::string(text) + " is not a whole number from " + std::to_string(min) + " to " +
         std::to_string(max);
}

// `text` as a finite number > 0: decimal, with an optional exponent ("3e-3"), nothing else.
inline std::optional<double> parse_positive_number(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [last, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || last != end || !std::isfinite(value) || !(value > 0)) {
    return std::nullopt;
  }
  return value;
}

inline std::string not_a_positive_number(std::string_view text) {
  return std::string(text) + " is not a finite number > 0";
}

// `text` as a finite number in [min, max] (max_open: [min, max)), written as parse_positive_number
// reads it.
inline std::optional<double> parse_number_in(std::string_view text, double min, double max,
                                             bool max_open) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [last, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || last != end || !std::isfinite(value) || value < min || value > max ||
      (max_open && value == max)) {
    return std::nullopt;
  }
  return value;
}

inline std::string not_a_number_in(std::string_view text, double min, double max, bool max_open) {
  std::ostringstream range;
  range << std::string(text) << " is not a finite number in [" << min << ", " << max
        << (max_open ? ")" : "]");
  return range.str();
}

}  // namespace examples

// The sin-fit figure as a self-contained SVG: the data and the fit on the left, the loss
// curve on a log scale on the right.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sin_fit.hpp"

namespace sin_fit {
namespace {

constexpr double kWidth = 960, kHeight = 400, kPanel = 400, kMargin = 50;

struct Axes {
  double left, top, x0, x1, y0, y1;  // panel origin and data ranges
  double px(double x) const { return left + (x - x0) / (x1 - x0) * kPanel; }
  double py(double y) const {
    return top + kPanel - 2 * kMargin - (y - y0) / (y1 - y0) * (kPanel - 2 * kMargin);
  }
};

std::string polyline(const Axes& ax, const std::vector<double>& xs, const std::vector<double>& ys,
                     const char* color) {
  std::ostringstream s;
  s << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"";
  const std::size_t stride = std::max<std::size_t>(1, xs.size() / 800);  // at most ~800 points
  for (std::size_t i = 0; i < xs.size(); i += stride)
    s << ax.px(xs[i]) << ',' << ax.py(ys[i]) << ' ';
  s << "\"/>\n";
  return s.str();
}

std::string frame(const Axes& ax, const std::string& title, const std::string& x_label,
                  const std::string& y_label) {
  std::ostringstream s;
  const double bottom = ax.top + kPanel - 2 * kMargin;
  s << "<rect x=\"" << ax.left << "\" y=\"" << ax.top << "\" width=\"" << kPanel << "\" height=\""
    << kPanel - 2 * kMargin << "\" fill=\"none\" stroke=\"#444\"/>\n";
  s << "<text x=\"" << ax.left + kPanel / 2 << "\" y=\"" << ax.top - 12
    << "\" text-anchor=\"middle\" font-size=\"16\">" << title << "</text>\n";
  s << "<text x=\"" << ax.left + kPanel / 2 << "\" y=\"" << bottom + 36
    << "\" text-anchor=\"middle\" font-size=\"13\">" << x_label << "</text>\n";
  s << "<text x=\"" << ax.left - 38 << "\" y=\"" << ax.top + (bottom - ax.top) / 2
    << "\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 " << ax.left - 38 << ' '
    << ax.top + (bottom - ax.top) / 2 << ")\">" << y_label << "</text>\n";
  return s.str();
}

std::string tick(double x, double y, const std::string& label, bool vertical_axis) {
  std::ostringstream s;
  if (vertical_axis) {
    s << "<text x=\"" << x - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\" font-size=\"11\">"
      << label << "</text>\n";
  } else {
    s << "<text x=\"" << x << "\" y=\"" << y + 16 << "\" text-anchor=\"middle\" font-size=\"11\">"
      << label << "</text>\n";
  }
  return s.str();
}

std::vector<double> values(const xg::Tensor& t) {
  const xg::Tensor d = t.detach().to(xg::kFloat64).contiguous();
  const double* p = d.data_ptr<double>();
  return {p, p + d.numel()};
}

}  // namespace

void write_plot(const std::string& path, const xg::Tensor& x, const xg::Tensor& y,
                const xg::Tensor& fit, const std::vector<double>& losses, int first_step) {
  const std::vector<double> xs = values(x), ys = values(y), fs = values(fit);
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";

  // Left: sin(x) and the fitted cubic.
  const double lo =
      std::min(*std::min_element(ys.begin(), ys.end()), *std::min_element(fs.begin(), fs.end()));
  const double hi =
      std::max(*std::max_element(ys.begin(), ys.end()), *std::max_element(fs.begin(), fs.end()));
  const Axes fit_axes{kMargin + 10, kMargin, xs.front(), xs.back(), lo - 0.1, hi + 0.1};
  svg << frame(fit_axes, "y = sin(x) and the fit", "x", "y");
  svg << polyline(fit_axes, xs, ys, "#1f77b4") << polyline(fit_axes, xs, fs, "#ff7f0e");
  for (double v : {-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0}) {
    svg << tick(fit_axes.px(v), fit_axes.py(fit_axes.y0), std::to_string(static_cast<int>(v)),
                false);
  }
  for (double v : {-1.0, 0.0, 1.0}) {
    svg << tick(fit_axes.px(fit_axes.x0), fit_axes.py(v), std::to_string(static_cast<int>(v)),
                true);
  }
  svg << "<text x=\"" << fit_axes.left + 12 << "\" y=\"" << fit_axes.top + 20
      << "\" font-size=\"12\" fill=\"#1f77b4\">sin(x)</text>\n<text x=\"" << fit_axes.left + 12
      << "\" y=\"" << fit_axes.top + 36 << "\" font-size=\"12\" fill=\"#ff7f0e\">fit</text>\n";

  // Right: the loss per step, log scale.
  if (!losses.empty()) {
    std::vector<double> steps(losses.size()), logs(losses.size());
    for (std::size_t i = 0; i < losses.size(); ++i) {
      steps[i] = static_cast<double>(first_step + static_cast<int>(i));
      logs[i] = std::log10(std::max(losses[i], 1e-30));
    }
    const double l0 = std::floor(*std::min_element(logs.begin(), logs.end()));
    const double l1 = std::ceil(*std::max_element(logs.begin(), logs.end()));
    const Axes loss_axes{
        kWidth / 2 + kMargin, kMargin, steps.front(), std::max(steps.back(), steps.front() + 1), l0,
        std::max(l1, l0 + 1)};
    svg << frame(loss_axes, "loss (log scale)", "step", "sum of squared errors");
    svg << polyline(loss_axes, steps, logs, "#2ca02c");
    for (double p = loss_axes.y0; p <= loss_axes.y1; ++p) {
      svg << tick(loss_axes.px(loss_axes.x0), loss_axes.py(p),
                  "1e" + std::to_string(static_cast<int>(p)), true);
    }
    svg << tick(loss_axes.px(loss_axes.x0), loss_axes.py(loss_axes.y0), std::to_string(first_step),
                false);
    svg << tick(loss_axes.px(loss_axes.x1), loss_axes.py(loss_axes.y0),
                std::to_string(static_cast<long long>(loss_axes.x1)), false);
  }
  svg << "</svg>\n";

  std::ofstream out(path);
  out << svg.str();
  if (!out) throw std::runtime_error("--plot: cannot write " + path);
}

}  // namespace sin_fit

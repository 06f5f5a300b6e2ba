#include "net_graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

namespace arena::client {
namespace {

// The graphs span this long, sampled this often: 10 s at 20 samples a second.
constexpr auto kSpan = std::chrono::seconds(10);
constexpr auto kSampleEvery = std::chrono::milliseconds(50);

// A scale that moves in steps and not with every sample, so the graph is readable.
double nice_ceiling(double value, double minimum) {
  double scale = minimum;
  while (scale < value)
    scale *= 2;
  return scale;
}

}  // namespace

void NetGraphOverlay::sample(const NetGraph& graph, Clock::time_point now) {
  if (!history_.empty() && now - history_.back().at < kSampleEvery) return;
  history_.push_back({now, graph.rtt_ms, graph.kbps_in});
  while (!history_.empty() && now - history_.front().at > kSpan)
    history_.pop_front();
}

void NetGraphOverlay::draw(Ui& ui, const NetGraph& graph, const Box& box) const {
  if (!visible_) return;
  TextRenderer& text = ui.text();
  ui.fill(box, Rgb{0, 0, 0}, palette::net_graph_alpha);  // the renderer blends (main.cpp)

  // Two columns of label/value pairs.
  char buffer[64];
  const int line = text.line_height(FontSize::small);
  int y = box.y + 6;
  const int left = box.x + 8;
  const int middle = box.x + box.w / 2 + 4;
  const auto row = [&](int x, const char* label, const char* value) {
    text.draw(label, x, y, palette::text_dim, FontSize::small);
    text.draw_right(value, x + box.w / 2 - 16, y, palette::text, FontSize::small);
  };
  text.draw("net graph (F3)", left, y, palette::text, FontSize::small);
  y += line + 2;
  std::snprintf(buffer, sizeof buffer, "%.1f ms (%s)", graph.rtt_ms,
                std::string_view(graph.transport) == "websocket" ? "tcp" : "udp");
  row(left, "rtt", buffer);
  std::snprintf(buffer, sizeof buffer, "%.1f %%", graph.loss * 100);
  row(middle, "loss rt", buffer);  // round trip: datagram or its ack lost
  y += line;
  std::snprintf(buffer, sizeof buffer, "%.1f kbit/s", graph.kbps_in);
  row(left, "in", buffer);
  std::snprintf(buffer, sizeof buffer, "%.1f kbit/s", graph.kbps_out);
  row(middle, "out", buffer);
  y += line;
  std::snprintf(buffer, sizeof buffer, "%.0f ms", graph.interpolation_delay_ms);
  row(left, "interp delay", buffer);
  std::snprintf(buffer, sizeof buffer, "%.0f ms", graph.interpolation_buffer_ms);
  row(middle, "buffer", buffer);
  y += line;
  std::snprintf(buffer, sizeof buffer, "%llu", static_cast<unsigned long long>(graph.corrections));
  row(left, "corrections", buffer);
  std::snprintf(buffer, sizeof buffer, "%.2f/%.2f m", graph.last_correction_m,
                graph.max_correction_m);
  row(middle, "last/max", buffer);
  y += line;
  std::snprintf(buffer, sizeof buffer, "%.1f", graph.ticks_ahead);
  row(left, "ticks ahead", buffer);
  std::snprintf(buffer, sizeof buffer, "%llu", static_cast<unsigned long long>(graph.snapshots));
  row(middle, "snapshots", buffer);
  y += line + 6;

  // The graphs: RTT and kbit/s in, each on its own scale, over the last kSpan.
  const Box plot{left, y + line, box.w - 16, box.y + box.h - y - line - 8};
  if (plot.h < 10) return;
  double max_rtt = 0, max_kbps = 0;
  for (const Sample& s : history_) {
    max_rtt = std::max(max_rtt, s.rtt_ms);
    max_kbps = std::max(max_kbps, s.kbps_in);
  }
  const double rtt_scale = nice_ceiling(max_rtt, 10);
  const double kbps_scale = nice_ceiling(max_kbps, 50);
  std::snprintf(buffer, sizeof buffer, "rtt (0-%.0f ms)", rtt_scale);
  const int legend = text.draw(buffer, left, y, palette::graph_rtt, FontSize::small);
  std::snprintf(buffer, sizeof buffer, "in (0-%.0f kbit/s), last %llds", kbps_scale,
                static_cast<long long>(kSpan.count()));
  text.draw(buffer, left + legend + 12, y, palette::graph_kbps, FontSize::small);
  ui.outline(plot, palette::panel_edge);
  if (history_.size() < 2) return;
  const auto newest = history_.back().at;
  const double span = std::chrono::duration<double>(kSpan).count();
  const auto point = [&](const Sample& s, double value, double scale) {
    const double age = std::chrono::duration<double>(newest - s.at).count();
    const double fx = 1 - age / span;
    const double fy = std::clamp(value / scale, 0.0, 1.0);
    return SDL_FPoint{static_cast<float>(plot.x + 1 + fx * (plot.w - 3)),
                      static_cast<float>(plot.y + plot.h - 2 - fy * (plot.h - 4))};
  };
  std::vector<SDL_FPoint> rtt, kbps;
  for (const Sample& s : history_) {
    rtt.push_back(point(s, s.rtt_ms, rtt_scale));
    kbps.push_back(point(s, s.kbps_in, kbps_scale));
  }
  // Two pixels thick, so the lines stay visible on the panel.
  for (float dy : {0.0F, 1.0F}) {
    for (auto* series : {&kbps, &rtt}) {
      const Rgb colour = series == &rtt ? palette::graph_rtt : palette::graph_kbps;
      std::vector<SDL_FPoint> shifted = *series;
      for (SDL_FPoint& p : shifted)
        p.y -= dy;
      SDL_SetRenderDrawColor(ui.renderer(), colour.r, colour.g, colour.b, 255);
      SDL_RenderDrawLinesF(ui.renderer(), shifted.data(), static_cast<int>(shifted.size()));
    }
  }
}

}  // namespace arena::client

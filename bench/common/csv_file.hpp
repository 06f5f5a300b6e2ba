#pragma once

// A benchmark's results as CSV, for bench/plots/make_plots.sh to draw: one header line, then one
// line per row. Numbers are written with enough digits to plot; text cells must not contain a
// comma (the benchmarks write names and numbers only).

#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace tickwire::bench {

class CsvFile {
 public:
  using Cell = std::variant<double, long long, std::string_view>;

  // An empty path writes nothing: the benchmark's --csv option was not given.
  CsvFile(const std::string& path, std::initializer_list<std::string_view> columns) {
    if (path.empty()) return;
    file_ = std::fopen(path.c_str(), "w");
    if (file_ == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      failed_ = true;
      return;
    }
    write_line(columns);
  }
  ~CsvFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;

  // True when --csv named a file that could not be opened (the benchmark then exits 1).
  bool failed() const { return failed_; }

  void row(std::initializer_list<Cell> cells) {
    if (file_ == nullptr) return;
    const char* separator = "";
    for (const Cell& cell : cells) {
      std::fputs(separator, file_);
      separator = ",";
      if (const auto* number = std::get_if<double>(&cell)) {
        std::fprintf(file_, "%.6g", *number);
      } else if (const auto* count = std::get_if<long long>(&cell)) {
        std::fprintf(file_, "%lld", *count);
      } else {
        const std::string_view text = std::get<std::string_view>(cell);
        std::fwrite(text.data(), 1, text.size(), file_);
      }
    }
    std::fputc('\n', file_);
    std::fflush(file_);
  }

 private:
  void write_line(std::initializer_list<std::string_view> columns) {
    const char* separator = "";
    for (const std::string_view column : columns) {
      std::fprintf(file_, "%s%.*s", separator, static_cast<int>(column.size()), column.data());
      separator = ",";
    }
    std::fputc('\n', file_);
  }

  std::FILE* file_ = nullptr;
  bool failed_ = false;
};

}  // namespace tickwire::bench

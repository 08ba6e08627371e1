// A workload of a header-only C++ library (minijson.hpp): build a document,
// then repeatedly parse it, serialise it, walk it with a lambda and sort a
// projection of it. Run with a scale factor; prints the time and a checksum.
#include "minijson.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

static std::string make_document(int records) {
  using minijson::Value;
  Value root = Value::array();
  for (int i = 0; i < records; ++i) {
    Value rec = Value::object();
    rec.set("id", Value(double(i)));
    rec.set("name", Value("item-" + std::to_string(i * 7919 % 1000)));
    rec.set("price", Value(double(i % 97) + 0.25));
    rec.set("active", Value(i % 3 != 0));
    Value tags = Value::array();
    for (int t = 0; t < 3; ++t) tags.push_back(Value("t" + std::to_string((i + t) % 11)));
    rec.set("tags", std::move(tags));
    root.push_back(std::move(rec));
  }
  return minijson::dump(root);
}

struct Row {
  double price;
  int id;
};

static long process(const std::string &text) {
  minijson::Value doc = minijson::parse(text);
  long numbers = 0, strings = 0;
  minijson::visit(doc, [&](const minijson::Value &v) {
    if (v.is_number()) ++numbers;
    else if (v.is_string()) strings += long(v.string().size());
  });
  std::vector<Row> rows;
  for (const minijson::Value &rec : doc.items()) {
    const minijson::Value *price = rec.find("price");
    const minijson::Value *id = rec.find("id");
    if (price && id) rows.push_back({price->number(), int(id->number())});
  }
  std::sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
    return a.price != b.price ? a.price < b.price : a.id < b.id;
  });
  std::string again = minijson::dump(doc);
  return numbers + strings + long(again.size()) + rows.front().id + rows.back().id;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? std::atol(argv[1]) : 1;
  std::string text = make_document(2000);
  timespec t0, t1, c0, c1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  long check = 0;
  for (long r = 0; r < scale; ++r) check += process(text);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  double cpu = (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6;
  std::printf("ms=%.3f cpu=%.3f check=%ld\n", ms, cpu, check);
}

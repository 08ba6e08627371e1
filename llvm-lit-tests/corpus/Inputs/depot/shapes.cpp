// Package shapes: areas, names and descriptions through virtual calls, on
// objects made once (the gallery) and on temporaries made at every step.
#include "shapes.h"

#include <cmath>
#include <cstdio>

#include "depot.h"
#include "geometry.h"

namespace {
int g_alive = 0;
constexpr double kPi = 3.14159265358979;
}

Shape::Shape(Kind k, double size) : kind_(k), size_(size) { ++g_alive; }

Shape::~Shape() { --g_alive; }

const char *Shape::name() const { return kind_name(kind_); }

std::string Shape::describe() const {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s(size=%.2f, area=%.2f)", name(), size_, area());
  return buf;
}

const char *kind_name(Kind k) {
  switch (k) {
  case Kind::Circle:
    return "circle";
  case Kind::Square:
    return "square";
  case Kind::Triangle:
    return "triangle";
  case Kind::Hexagon:
    return "hexagon";
  case Kind::Star:
    return "star";
  case Kind::Ring:
    return "ring";
  }
  return "unknown";
}

char kind_symbol(Kind k) {
  switch (k) {
  case Kind::Circle:
    return 'O';
  case Kind::Square:
    return '#';
  case Kind::Triangle:
    return '^';
  case Kind::Hexagon:
    return 'H';
  case Kind::Star:
    return '*';
  case Kind::Ring:
    return '@';
  }
  return '?';
}

double Circle::area() const { return kPi * square(size_); }
double Circle::perimeter() const { return 2 * kPi * size_; }

double Square::area() const { return square(size_); }
double Square::perimeter() const { return 4 * size_; }

double Triangle::area() const { return std::sqrt(3.0) / 4 * square(size_); }
double Triangle::perimeter() const { return 3 * size_; }
const char *Triangle::name() const { return "triangle"; }

double Hexagon::area() const { return 3 * std::sqrt(3.0) / 2 * square(size_); }
double Hexagon::perimeter() const { return 6 * size_; }
std::string Hexagon::describe() const {
  char buf[128];
  std::snprintf(buf, sizeof buf, "hexagon with side %.2f", size_);
  return buf;
}

double Star::area() const { return points_ * square(size_) * 0.25; }
double Star::perimeter() const { return 2 * points_ * size_; }
const char *Star::name() const { return points_ == 5 ? "star" : "starburst"; }

double Ring::area() const { return kPi * (square(size_) - square(inner_)); }
double Ring::perimeter() const { return 2 * kPi * (size_ + inner_); }

std::unique_ptr<Shape> make_shape(Kind k, double size) {
  switch (k) {
  case Kind::Circle:
    return std::make_unique<Circle>(size);
  case Kind::Square:
    return std::make_unique<Square>(size);
  case Kind::Triangle:
    return std::make_unique<Triangle>(size);
  case Kind::Hexagon:
    return std::make_unique<Hexagon>(size);
  case Kind::Star:
    return std::make_unique<Star>(size, 5);
  case Kind::Ring:
    return std::make_unique<Ring>(size, size / 2);
  }
  return nullptr;
}

std::vector<std::unique_ptr<Shape>> &gallery() {
  static std::vector<std::unique_ptr<Shape>> shapes = [] {
    std::vector<std::unique_ptr<Shape>> v;
    for (int i = 0; i < 6; ++i)
      v.push_back(make_shape(static_cast<Kind>(i), 1.0 + i * 0.5));
    return v;
  }();
  return shapes;
}

static std::string all_kinds() {
  std::string kinds;
  for (int i = 0; i < 6; ++i)
    kinds = join(kinds, kind_name(static_cast<Kind>(i)));
  return kinds;
}

static double total_area(const std::vector<std::unique_ptr<Shape>> &shapes) {
  double total = 0;
  for (const auto &s : shapes)
    total += s->area();
  return total;
}

void report_shapes() {
  auto &g = gallery();
  probe("shapes.kinds", all_kinds());
  std::string syms;
  for (int i = 0; i < 6; ++i)
    syms += kind_symbol(static_cast<Kind>(i));
  probe("shapes.symbols", syms);
  probe("shapes.area", fmt("%.3f", total_area(g)));
  std::string names;
  for (const auto &s : g)
    names = join(names, s->name(), ' ');
  probe("shapes.names", names);
  probe("shapes.describe", g[0]->describe() + "; " + g[3]->describe());
  {
    auto tmp = make_shape(Kind::Square, 2.0);
    probe("shapes.temp", tmp->describe());
  }
  probe("shapes.perimeter", fmt("%.2f", g[4]->perimeter()));
  probe("shapes.alive", std::to_string(g_alive));
  probe("shapes.blend", fmt("%.3f", lerp(g[0]->area(), g[1]->area(), clamp01(0.25))));
  probe("shapes.cube", fmt("%d", cube(3)));
}

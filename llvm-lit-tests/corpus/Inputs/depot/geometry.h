// Small geometry helpers shared by the shapes and the route planner.
#pragma once

inline double lerp(double a, double b, double t) { return a + (b - a) * t; }

inline double clamp01(double v) {
  if (v < 0.0)
    return 0.0;
  if (v > 1.0)
    return 1.0;
  return v;
}

inline int manhattan(int x1, int y1, int x2, int y2) {
  int dx = x1 > x2 ? x1 - x2 : x2 - x1;
  int dy = y1 > y2 ? y1 - y2 : y2 - y1;
  return dx + dy;
}

template <typename T> inline T square(T v) { return v * v; }

template <typename T> inline T cube(T v) { return v * v * v; }

struct Point {
  int x;
  int y;
};

inline Point midpoint(Point a, Point b) { return Point{(a.x + b.x) / 2, (a.y + b.y) / 2}; }

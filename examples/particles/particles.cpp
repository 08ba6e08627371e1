// particles: a small simulation to edit while it runs, under `hotpatch dev`.
//
// Particles fall and bounce in a box. main() owns the world (the particles
// and the frame count) and every 50 ms advances it with step() and prints
// report(). Both are hot (hotpatch_enable): save an edit of step() and the
// same particles carry on under the new rules. Adding a field to Particle
// cannot be patched, since the particles in memory have the old layout:
// hotpatch dev says so, rebuilds the program and restarts it, from its
// initial state.
//
//   particles [COUNT]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

struct Vec2 {
  float x, y;
};

Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
Vec2 operator*(Vec2 a, float s) { return {a.x * s, a.y * s}; }

struct Particle {
  Vec2 position; // m
  Vec2 velocity; // m/s
};

struct World {
  std::vector<Particle> particles;
  Vec2 size = {10, 10}; // the box, m
  long frame = 0;
};

// The same particles on every run: a fixed seed.
World make_world(int count) {
  World world;
  unsigned seed = 12345;
  auto random = [&seed](float lo, float hi) {
    seed = seed * 1664525u + 1013904223u;
    return lo + (hi - lo) * float(seed >> 8) / float(1u << 24);
  };
  for (int i = 0; i < count; ++i)
    world.particles.push_back({{random(0, world.size.x), random(0, world.size.y)},
                               {random(-3, 3), random(-3, 3)}});
  return world;
}

// Keeps a coordinate inside [0, size]: at a wall the velocity turns back.
// Returns whether it bounced.
bool bounce(float &position, float &velocity, float size) {
  if (position >= 0 && position <= size)
    return false;
  position = position < 0 ? -position : 2 * size - position;
  velocity = -velocity;
  return true;
}

// Advances the world by dt seconds.
void step(World &world, float dt) {
  const Vec2 gravity = {0, -9.81f};
  const float friction = 0.0f; // the part of its velocity a particle loses each step
  for (Particle &p : world.particles) {
    p.velocity = (p.velocity + gravity * dt) * (1 - friction);
    p.position = p.position + p.velocity * dt;
    bounce(p.position.x, p.velocity.x, world.size.x);
    bounce(p.position.y, p.velocity.y, world.size.y);
  }
  ++world.frame;
}

// One line about the world.
std::string report(const World &world) {
  double height = 0, energy = 0;
  for (const Particle &p : world.particles) {
    height += p.position.y;
    energy += 0.5 * (p.velocity.x * p.velocity.x + p.velocity.y * p.velocity.y);
  }
  char line[200];
  std::snprintf(line, sizeof line,
                "frame %ld: %zu particles, mean height %.2f m, kinetic energy %.2f J",
                world.frame, world.particles.size(), height / world.particles.size(), energy);
  return line;
}

int main(int argc, char **argv) {
  World world = make_world(argc > 1 ? std::atoi(argv[1]) : 100);
  for (;;) {
    std::printf("%s\n", report(world).c_str());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    step(world, 0.05f);
  }
}

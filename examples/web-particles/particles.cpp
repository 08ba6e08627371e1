// A particle system in the browser: 4 Web Workers each move a quarter of
// the particles and draw them into a shared pixel buffer that the page puts
// on a canvas. Edit shade() or update() while it runs: the canvas changes
// without a reload, and the particles go on from where they were.
#include <stdint.h>

constexpr int Width = 256, Height = 256, Count = 8192;

struct Particle {
  float x, y, vx, vy;
};

Particle particles[Count];
uint32_t pixels[Width * Height]; // RGBA bytes, read by the page
int frames;

// The colour of particle i (0xAABBGGRR: bytes R, G, B, A in memory).
uint32_t shade(int i) { return 0xff2020e0u + (uint32_t(i & 31) << 8); }

void update(Particle &p) {
  p.x += p.vx;
  p.y += p.vy;
  if (p.x < 0 || p.x >= Width) p.vx = -p.vx, p.x += 2 * p.vx;
  if (p.y < 0 || p.y >= Height) p.vy = -p.vy, p.y += 2 * p.vy;
}

extern "C" {
// Called once, on the main thread.
void setup() {
  uint32_t seed = 12345;
  auto next = [&] { return (seed = seed * 1664525u + 1013904223u) >> 8; };
  for (Particle &p : particles) {
    p.x = next() % Width;
    p.y = next() % Height;
    p.vx = (int(next() % 200) - 100) / 100.0f;
    p.vy = (int(next() % 200) - 100) / 100.0f;
  }
}

// One frame of worker `worker` of `workers`: its slice of the particles.
void step(int worker, int workers) {
  int begin = Count * worker / workers, end = Count * (worker + 1) / workers;
  for (int i = begin; i < end; i++) {
    update(particles[i]);
    int x = int(particles[i].x), y = int(particles[i].y);
    if (x >= 0 && x < Width && y >= 0 && y < Height)
      pixels[y * Width + x] = shade(i);
  }
}

// The page's side of a frame, on the main thread.
uint32_t *pixel_buffer() { return pixels; }
int next_frame() { return ++frames; }
}

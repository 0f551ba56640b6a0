;; Bounds of stored indexes: largestUnsigned gives the largest of `count` 32-bit values read as
;; unsigned (a negative int32 reads as 2^31 or more), so that one comparison with it tells whether
;; every row a model file's search index names exists (src/model/artistSearch.ts).
;;
;; stride 1 takes every value; stride 2 every other one from the first (the rows of (row, start)
;; pairs): the odd lanes of each quad are masked to 0, and the scalar tail starts at an even index.
;; Gives 0 for count 0.
;;
;; Memory (imported as env.memory, owned by src/model/wasm/kernels.ts): `values` is a byte offset,
;; any alignment works but 16 is fastest.
;;
;; Cost: count / 4 loads and unsigned maxima, two accumulators to hide their latency; about 1 ms
;; for the 2.2 million trigram postings of a 160,000-artist index, which stream from memory, where
;; a plain-JS loop takes about 4 ms.
(module
  (import "env" "memory" (memory 1))

  (func (export "largestUnsigned")
    (param $values i32) (param $count i32) (param $stride i32) (result i32)
    (local $at i32)        ;; address of the current value
    (local $end8 i32)      ;; address where the 8-value steps stop
    (local $end i32)       ;; address one past the last value
    (local $mask v128)     ;; lanes taken
    (local $acc0 v128) (local $acc1 v128)
    (local $largest i32)
    (local $value i32)
    (local $step i32)      ;; bytes between values of the tail

    (local.set $mask
      (select
        (v128.const i32x4 -1 -1 -1 -1)
        (v128.const i32x4 -1 0 -1 0)
        (i32.eq (local.get $stride) (i32.const 1))))
    (local.set $at (local.get $values))
    (local.set $end (i32.add (local.get $values) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $end8
      (i32.add (local.get $values)
               (i32.shl (i32.and (local.get $count) (i32.const -8)) (i32.const 2))))

    ;; 8 values a step, one quad per accumulator.
    (block $end8Reached
      (loop $step8
        (br_if $end8Reached (i32.ge_u (local.get $at) (local.get $end8)))
        (local.set $acc0
          (i32x4.max_u (local.get $acc0)
                       (v128.and (v128.load (local.get $at)) (local.get $mask))))
        (local.set $acc1
          (i32x4.max_u (local.get $acc1)
                       (v128.and (v128.load offset=16 (local.get $at)) (local.get $mask))))
        (local.set $at (i32.add (local.get $at) (i32.const 32)))
        (br $step8)))

    ;; Fold the lanes.
    (local.set $acc0 (i32x4.max_u (local.get $acc0) (local.get $acc1)))
    (local.set $largest (i32x4.extract_lane 0 (local.get $acc0)))
    (local.set $value (i32x4.extract_lane 1 (local.get $acc0)))
    (if (i32.gt_u (local.get $value) (local.get $largest))
      (then (local.set $largest (local.get $value))))
    (local.set $value (i32x4.extract_lane 2 (local.get $acc0)))
    (if (i32.gt_u (local.get $value) (local.get $largest))
      (then (local.set $largest (local.get $value))))
    (local.set $value (i32x4.extract_lane 3 (local.get $acc0)))
    (if (i32.gt_u (local.get $value) (local.get $largest))
      (then (local.set $largest (local.get $value))))

    ;; The last 0 to 7 values, one at a time (the first of them has an even index).
    (local.set $step (i32.shl (local.get $stride) (i32.const 2)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $value (i32.load (local.get $at)))
        (if (i32.gt_u (local.get $value) (local.get $largest))
          (then (local.set $largest (local.get $value))))
        (local.set $at (i32.add (local.get $at) (local.get $step)))
        (br $tail)))
    (local.get $largest)))

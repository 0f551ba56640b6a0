;; Bounds of stored indexes, so that a model file whose index names a row that does not exist is
;; refused on loading (src/model/artistSearch.ts, src/model/modelFile.ts):
;;
;; largestUnsigned    the largest of `count` 32-bit values read as unsigned (a negative int32
;;                    reads as 2^31 or more): one comparison with it tells whether every row
;;                    named exists. stride 1 takes every value; stride 2 every other one from the
;;                    first (the odd lanes of each quad are masked to 0, and the scalar tail
;;                    starts at an even index). Gives 0 for count 0.
;; largestUnsigned16  the same for 16-bit values, stride 1.
;; nonDecreasing      1 when no one of `count` 32-bit values, read as unsigned, is smaller than
;;                    the one before it (CSR starts in order), else 0; each quad is compared with
;;                    the quad one value earlier.
;;
;; Memory (imported as env.memory, owned by src/model/wasm/kernels.ts): `values` is a byte offset,
;; any alignment works but 16 is fastest.
;;
;; Cost: one pass, a quad (8 lanes of 16 bits) at a time: about 0.3 ms for 3 million values that
;; stream from memory, where a plain-JS loop run once per load takes over 4 ms.
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
    (local.get $largest))

  (func (export "largestUnsigned16")
    (param $values i32) (param $count i32) (result i32)
    (local $at i32)        ;; address of the current value
    (local $end8 i32)      ;; address where the 8-value steps stop
    (local $end i32)       ;; address one past the last value
    (local $acc v128)
    (local $largest i32)
    (local $value i32)
    (local $lane i32)

    (local.set $at (local.get $values))
    (local.set $end (i32.add (local.get $values) (i32.shl (local.get $count) (i32.const 1))))
    (local.set $end8
      (i32.add (local.get $values)
               (i32.shl (i32.and (local.get $count) (i32.const -8)) (i32.const 1))))
    (block $end8Reached
      (loop $step8
        (br_if $end8Reached (i32.ge_u (local.get $at) (local.get $end8)))
        (local.set $acc (i16x8.max_u (local.get $acc) (v128.load (local.get $at))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $step8)))

    ;; Fold the 8 lanes: halves, quarters, eighths.
    (local.set $acc
      (i16x8.max_u (local.get $acc)
                   (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                                  (local.get $acc) (local.get $acc))))
    (local.set $acc
      (i16x8.max_u (local.get $acc)
                   (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3
                                  (local.get $acc) (local.get $acc))))
    (local.set $acc
      (i16x8.max_u (local.get $acc)
                   (i8x16.shuffle 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1
                                  (local.get $acc) (local.get $acc))))
    (local.set $largest (i16x8.extract_lane_u 0 (local.get $acc)))

    ;; The last 0 to 7 values.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $value (i32.load16_u (local.get $at)))
        (if (i32.gt_u (local.get $value) (local.get $largest))
          (then (local.set $largest (local.get $value))))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))
        (br $tail)))
    (local.get $largest))

  (func (export "nonDecreasing")
    (param $values i32) (param $count i32) (result i32)
    (local $at i32)        ;; address of the current value (the one compared with the previous)
    (local $end4 i32)      ;; address where the 4-value steps stop
    (local $end i32)       ;; address one past the last value
    (local $fell v128)     ;; lanes where a value was smaller than the one before it

    (if (i32.lt_u (local.get $count) (i32.const 2)) (then (return (i32.const 1))))
    (local.set $at (i32.add (local.get $values) (i32.const 4)))
    (local.set $end (i32.add (local.get $values) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $end4
      (i32.add (local.get $at)
               (i32.shl (i32.and (i32.sub (local.get $count) (i32.const 1)) (i32.const -4))
                        (i32.const 2))))
    (block $end4Reached
      (loop $step4
        (br_if $end4Reached (i32.ge_u (local.get $at) (local.get $end4)))
        (local.set $fell
          (v128.or (local.get $fell)
                   (i32x4.lt_u (v128.load (local.get $at))
                               (v128.load (i32.sub (local.get $at) (i32.const 4))))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $step4)))
    (if (v128.any_true (local.get $fell)) (then (return (i32.const 0))))

    ;; The last 0 to 3 values.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $at) (local.get $end)))
        (if (i32.lt_u (i32.load (local.get $at)) (i32.load (i32.sub (local.get $at) (i32.const 4))))
          (then (return (i32.const 0))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $tail)))
    (i32.const 1)))

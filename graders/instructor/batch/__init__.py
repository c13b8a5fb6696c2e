"""Batch grading (`make grade`): a pipeline of named steps, as nbgrader's preprocessors are.

    load     find the submissions: sub-folders and .zip files, named by learner id
    isolate  copy only the exercise modules into a private folder; screen their source
    run      run every task, visible and hidden checks, each in a fresh guarded process
    score    points per task from the registry's checks; tampering and screen findings zero
    report   grades.csv, grades.json, and per learner results.json (Gradescope) + feedback.md

Each step is one module here with one job; graders.instructor.batch.pipeline strings them together,
grades
submissions in parallel, and skips learners already graded by the same kit (resume).
"""

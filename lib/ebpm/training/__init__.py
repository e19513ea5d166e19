"""EBPM training: course definition, lesson release, autograding, quizzes, materials and attendance import."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "load_course": "ebpm.training.course",
        "check": "ebpm.training.exercises",
        "card_krueger": "ebpm.training.teaching",
        "workshop_study": "ebpm.training.simulations",
        "release_notebooks": "ebpm.training.release",
        "grade_folder": "ebpm.training.grading",
        "build_materials": "ebpm.training.materials",
        "load_bank": "ebpm.training.quiz",
        "read_answers": "ebpm.training.quiz",
        "paired_difference": "ebpm.training.quiz",
        "learning_gain": "ebpm.training.quiz",
        "course_report": "ebpm.training.gain_report",
        "import_attendance": "ebpm.training.attendance",
        "coverage_table": "ebpm.training.attendance",
        "pseudonym": "ebpm.training.attendance",
    },
)

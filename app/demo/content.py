"""The demo catalog: users, categories and 40 hand-written courses (data only)."""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.models import Role
from app.catalog.models import CourseLevel
from app.core.periods import AccessPeriod

# (email, name, role); every account uses DEMO_PASSWORD.
USERS: tuple[tuple[str, str, Role], ...] = (
    ("admin@example.com", "Ada Admin", Role.ADMIN),
    ("teacher1@example.com", "Priya Sharma", Role.TEACHER),
    ("teacher2@example.com", "Marcus Webb", Role.TEACHER),
    ("teacher3@example.com", "Lucía Fernández", Role.TEACHER),
    ("trainer1@example.com", "Daniel Mensah", Role.TRAINER),
    ("trainer2@example.com", "Grace Liu", Role.TRAINER),
    ("student1@example.com", "Aarav Shah", Role.STUDENT),
    ("student2@example.com", "Emily Carter", Role.STUDENT),
    ("student3@example.com", "Sofia Rossi", Role.STUDENT),
    ("student4@example.com", "Kenji Watanabe", Role.STUDENT),
    ("student5@example.com", "Fatima Noor", Role.STUDENT),
)

# (slug, name, icon, description) in display order; each slug has static/img/covers/<slug>.svg.
CATEGORIES: tuple[tuple[str, str, str, str], ...] = (
    ("programming", "Programming", "💻", "Write clear, working code in popular languages."),
    ("data-science", "Data Science", "📊", "Turn raw data into answers with statistics and ML."),
    ("web-development", "Web Development", "🌐", "Build, style and ship sites and web apps."),
    ("design", "Design", "🎨", "Create interfaces, type and colour that people enjoy using."),
    ("business", "Business", "💼", "Plan, finance and lead projects, teams and companies."),
    ("marketing", "Marketing", "📣", "Reach the right audience with search, content and ads."),
    (
        "personal-development",
        "Personal Development",
        "🌱",
        "Build habits and skills that make work and life easier.",
    ),
    ("music-audio", "Music & Audio", "🎵", "Write, produce and mix music and spoken audio."),
)

MIN_LECTURE_S = 3 * 60
MAX_LECTURE_S = 25 * 60
# Adding this to a price ending in ...99 (cents) or ...900 (paise) gives a round number.
LIST_PRICE_STEP = {"USD": 1, "INR": 100}
# Time-limited prices (seed 002's product `period`), by course title and currency; every other
# price gives access for good.
ACCESS_PERIODS: dict[str, dict[str, AccessPeriod]] = {
    "SQL for Data Analysis": {"INR": AccessPeriod(6, "month")},
    "Deep Learning with PyTorch": {"USD": AccessPeriod(1, "year")},
}

# [(chapter title, [(lecture title, duration in seconds), ...]), ...]
Curriculum = list[tuple[str, list[tuple[str, int]]]]


@dataclass(frozen=True)
class CourseSpec:
    """One demo course; chapters are "Chapter title | lecture; lecture; ..." lines."""

    title: str
    subtitle: str
    teacher: int  # n in teacher<n>@example.com
    level: CourseLevel
    usd: int | None  # minor units; None: no price in this currency
    inr: int | None
    about: str  # one or two Markdown paragraphs
    learn: tuple[str, ...]
    chapters: tuple[str, ...]
    language: str = "en"
    was: bool = False  # show a higher list price to strike through
    featured: bool = False
    draft: bool = False


@dataclass(frozen=True)
class Copy:
    """The composed parts of a description, in one language."""

    audience: dict[CourseLevel, str]
    facts: tuple[str, ...]
    free: str
    preview: str
    heading: str
    units: tuple[str, str, str, str]  # hour, hours, minute, minutes
    joiner: str


COPY: dict[str, Copy] = {
    "en": Copy(
        audience={
            CourseLevel.BEGINNER: "No previous experience is needed; every idea is introduced "
            "from scratch.",
            CourseLevel.INTERMEDIATE: "It suits learners who know the basics and want to become "
            "genuinely capable.",
            CourseLevel.ADVANCED: "It is aimed at practitioners who already use these tools and "
            "want to go deeper.",
            CourseLevel.ALL: "Newcomers and experienced learners alike will find plenty to take "
            "away.",
        },
        facts=(
            "The course is organised in {ch} chapters and {lec} lectures, about {dur} of "
            "video{lang}.",
            "Across {ch} chapters you get {lec} focused lectures, roughly {dur} of video{lang}.",
            "Expect {lec} lectures in {ch} chapters, around {dur} of video{lang}, with a practical "
            "exercise at the end of every chapter.",
        ),
        free="All of it is free, no card required.",
        preview="The first lecture is free to preview, so you can try before you enrol.",
        heading="### What you'll learn",
        units=("hour", "hours", "minute", "minutes"),
        joiner=" and ",
    ),
    "es": Copy(
        audience={
            CourseLevel.BEGINNER: "No necesitas experiencia previa: cada idea se explica desde "
            "cero.",
            CourseLevel.INTERMEDIATE: "Está pensado para quien ya domina lo básico y quiere dar "
            "el siguiente paso.",
            CourseLevel.ADVANCED: "Está dirigido a profesionales que ya usan estas herramientas "
            "a diario.",
            CourseLevel.ALL: "Sirve tanto si empiezas como si ya tienes experiencia.",
        },
        facts=(
            "El curso se organiza en {ch} capítulos y {lec} clases, unas {dur} de vídeo.",
            "A lo largo de {ch} capítulos encontrarás {lec} clases, aproximadamente {dur} de "
            "vídeo.",
            "Son {lec} clases en {ch} capítulos, alrededor de {dur} de vídeo, con ejercicios al "
            "final de cada capítulo.",
        ),
        free="Todo el curso es gratuito.",
        preview="La primera clase es gratuita para que puedas probar antes de inscribirte.",
        heading="### Lo que aprenderás",
        units=("hora", "horas", "minuto", "minutos"),
        joiner=" y ",
    ),
}
# Courses in other languages use the English copy with a note (Spanish ones are written in Spanish).
LANGUAGE_NOTES = {"hi": ", taught in Hindi"}

PROGRAMMING: tuple[CourseSpec, ...] = (
    CourseSpec(
        title="Python for Absolute Beginners",
        subtitle="Write your first real programs, one small step at a time",
        teacher=1,
        level=CourseLevel.BEGINNER,
        usd=0,
        inr=0,
        featured=True,
        about="Python is the friendliest way into programming, and this course treats you like "
        "the complete beginner you are. We start with a blank editor and finish with small "
        "programs you will actually use: a budget tracker, a quiz game and a file renamer.\n\n"
        "Each lesson introduces one idea, shows it in action and then hands the keyboard to you. "
        "Mistakes are part of the plan; you will learn to read error messages instead of "
        "fearing them.",
        learn=(
            "Install Python and run scripts from an editor and the terminal",
            "Work with variables, strings, lists and dictionaries",
            "Control flow with if statements, loops and functions",
            "Read and write files and handle errors gracefully",
        ),
        chapters=(
            "Getting set up | Why Python?; Installing Python and VS Code; "
            "Running your first script",
            "Values and variables | Numbers and strings; Variables and naming; "
            "Getting input from the user; f-strings",
            "Making decisions | Booleans and comparisons; if, elif and else; "
            "Project: a number guessing game",
            "Collections and loops | Lists; for loops; while loops; Dictionaries; "
            "Project: a budget tracker",
            "Functions and files | Defining functions; Arguments and return values; "
            "Reading and writing files; Handling errors",
        ),
    ),
    CourseSpec(
        title="Modern JavaScript: From ES6 to Async/Await",
        subtitle="The language features every front-end and Node developer uses daily",
        teacher=2,
        level=CourseLevel.INTERMEDIATE,
        usd=3499,
        inr=129900,
        was=True,
        about="If you learned JavaScript from old tutorials, the modern language can feel like a "
        "different one. This course walks through the features that changed how JavaScript is "
        "written: modules, destructuring, classes, promises and async functions.\n\n"
        "Every topic is anchored in a realistic snippet from a front-end or Node.js codebase, so "
        "you learn not only the syntax but when to reach for it.",
        learn=(
            "Use let, const, arrow functions and template literals with confidence",
            "Structure code with ES modules and classes",
            "Reason about the event loop, promises and async/await",
            "Handle errors in asynchronous code without losing them",
        ),
        chapters=(
            "The modern baseline | let, const and block scope; Arrow functions; "
            "Template literals; Default and rest parameters",
            "Working with data | Destructuring; Spread syntax; Map and Set; "
            "Array methods you will use daily",
            "Organising code | ES modules; Classes and inheritance; Private fields",
            "Asynchronous JavaScript | The event loop explained; Promises; async and await; "
            "Error handling in async code; Fetching data from an API",
        ),
    ),
    CourseSpec(
        title="Go Programming: Build Fast, Reliable Services",
        subtitle="Idiomatic Go for developers who already know another language",
        teacher=1,
        level=CourseLevel.INTERMEDIATE,
        usd=4999,
        inr=199900,
        about="Go rewards simple, explicit code, and this course teaches you to write it the way "
        "experienced Go developers do. You will build a small HTTP service from scratch, adding "
        "tests, configuration and graceful shutdown as you go.\n\n"
        "Along the way we cover the parts of Go that trip up newcomers: interfaces, error "
        "values, and goroutines that leak when nobody is watching.",
        learn=(
            "Write idiomatic Go with structs, interfaces and error values",
            "Build and test an HTTP JSON API with the standard library",
            "Use goroutines, channels and context safely",
            "Profile and benchmark code to find real bottlenecks",
        ),
        chapters=(
            "Go in a hurry | Tooling and modules; Types and structs; Methods and interfaces; "
            "Errors are values",
            "Building an HTTP service | net/http basics; Routing and handlers; "
            "JSON in and out; Middleware",
            "Testing | Table-driven tests; Testing HTTP handlers; Benchmarks",
            "Concurrency | Goroutines; Channels; select and timeouts; "
            "context for cancellation; Avoiding goroutine leaks",
            "Shipping it | Configuration; Graceful shutdown; Building small containers",
        ),
    ),
    CourseSpec(
        title="Rust Fundamentals for Systems Programmers",
        subtitle="Ownership, borrowing and fearless concurrency, explained with real programs",
        teacher=2,
        level=CourseLevel.ADVANCED,
        usd=6999,
        inr=None,
        about="Rust's compiler is strict because it is protecting you, and once you understand "
        "what it checks the language becomes a joy. This course is for developers with C, C++ "
        "or Go experience who want to understand Rust properly rather than fight the borrow "
        "checker.\n\n"
        "We build a command-line log analyser and a small multithreaded server, using each "
        "project to introduce ownership, lifetimes, traits and error handling in context.",
        learn=(
            "Explain ownership, borrowing and lifetimes in your own words",
            "Model data with enums, pattern matching and traits",
            "Handle errors idiomatically with Result and the ? operator",
            "Write safe concurrent code with threads, channels and Arc",
        ),
        chapters=(
            "Why Rust | The memory safety problem; Cargo and the toolchain; "
            "A first look at ownership",
            "Ownership in depth | Moves and copies; References and borrowing; Lifetimes; "
            "Slices and strings",
            "Modelling with types | Structs and enums; Pattern matching; Traits and generics; "
            "Iterators",
            "Errors and projects | Result and the ? operator; Building a log analyser; "
            "Testing and documentation",
            "Fearless concurrency | Threads; Channels; Shared state with Arc and Mutex; "
            "A small multithreaded server",
        ),
    ),
    CourseSpec(
        title="Core Java in Hindi: From Basics to OOP",
        subtitle="Learn Java step by step with clear explanations in Hindi",
        teacher=1,
        level=CourseLevel.BEGINNER,
        language="hi",
        usd=None,
        inr=69900,
        was=True,
        about="This course teaches Java from the very first line of code, with every concept "
        "explained in simple Hindi and every program written live. It is ideal for college "
        "students and job seekers preparing for campus placements.\n\n"
        "By the end you will be comfortable with object-oriented programming and ready to solve "
        "typical interview questions on arrays, strings and classes.",
        learn=(
            "Set up the JDK and an IDE and run Java programs",
            "Use variables, operators, loops and arrays",
            "Design programs with classes, objects, inheritance and interfaces",
            "Solve common placement-style coding questions",
        ),
        chapters=(
            "Java basics | Installing the JDK and IntelliJ; Your first Java program; "
            "Variables and data types; Operators",
            "Control flow | if-else and switch; Loops; Arrays; Practice problems",
            "Object-oriented programming | Classes and objects; Constructors; Inheritance; "
            "Polymorphism; Interfaces and abstract classes",
            "Beyond the basics | Strings and StringBuilder; Exception handling; "
            "Collections framework; Interview questions walkthrough",
        ),
    ),
)

DATA_SCIENCE: tuple[CourseSpec, ...] = (
    CourseSpec(
        title="Machine Learning Foundations",
        subtitle="Regression, classification and honest model evaluation from first principles",
        teacher=1,
        level=CourseLevel.INTERMEDIATE,
        usd=7999,
        inr=349900,
        was=True,
        featured=True,
        about="Machine learning is less magic than it looks. This course builds the core "
        "algorithms step by step so you understand what each model assumes, where it fails and "
        "how to tell whether it is actually working.\n\n"
        "Every model is implemented in Python with NumPy, pandas and scikit-learn, and every "
        "chapter ends with a small project on a real dataset, from house prices to customer "
        "churn.",
        learn=(
            "Prepare data with pandas and build reproducible pipelines",
            "Train linear models, decision trees and gradient boosting",
            "Evaluate models with cross-validation and the right metrics",
            "Spot and fix overfitting, leakage and class imbalance",
        ),
        chapters=(
            "Thinking in models | What learning from data means; The train/test split; "
            "A first model in ten lines",
            "Regression | Linear regression; Regularisation; Feature engineering; "
            "Project: predicting house prices",
            "Classification | Logistic regression; Decision trees; Gradient boosting; "
            "Project: predicting churn",
            "Evaluation | Cross-validation; Precision, recall and ROC curves; Data leakage; "
            "Imbalanced classes",
            "Putting it together | Pipelines; Hyperparameter search; Explaining predictions",
        ),
    ),
    CourseSpec(
        title="SQL for Data Analysis",
        subtitle="Answer real business questions with queries, joins and window functions",
        teacher=1,
        level=CourseLevel.BEGINNER,
        usd=2999,
        inr=99900,
        about="SQL is the most useful skill a data analyst can have, and it is far easier to "
        "learn than its reputation suggests. You will query a realistic online-shop database "
        "from the first lesson and build up to the kind of reports analysts write every week.\n\n"
        "We use PostgreSQL, but everything you learn transfers to MySQL, SQL Server and the "
        "cloud data warehouses.",
        learn=(
            "Filter, sort and aggregate data with SELECT, WHERE and GROUP BY",
            "Combine tables with inner and outer joins",
            "Use subqueries, CTEs and window functions",
            "Turn a vague question into a precise, correct query",
        ),
        chapters=(
            "First queries | Meet the shop database; SELECT and WHERE; Sorting and limiting",
            "Summarising data | COUNT, SUM and AVG; GROUP BY and HAVING; Working with dates",
            "Joining tables | Inner joins; Left joins and missing data; Self joins",
            "Advanced analysis | Subqueries; Common table expressions; Window functions; "
            "Running totals and rankings; Project: a cohort report",
        ),
    ),
    CourseSpec(
        title="Statistics Without Tears",
        subtitle="The intuition behind averages, variation, probability and tests",
        teacher=3,
        level=CourseLevel.BEGINNER,
        usd=0,
        inr=0,
        about="Statistics is usually taught as a list of formulas to memorise. Here it is taught "
        "as a way of thinking about uncertainty, with pictures and simulations first and "
        "formulas only when they earn their place.\n\n"
        "No maths beyond school arithmetic is assumed, and no software is needed.",
        learn=(
            "Describe data with the right averages and measures of spread",
            "Understand probability, distributions and sampling",
            "Read confidence intervals and p-values without misinterpreting them",
            "Recognise misleading charts and statistics in the news",
        ),
        chapters=(
            "Describing data | Averages and when they lie; Spread and variation; "
            "Visualising distributions",
            "Probability | Chance and randomness; The normal distribution; "
            "Sampling and the central limit theorem",
            "Inference | Confidence intervals; Hypothesis tests; What a p-value is not",
            "Statistics in the wild | Correlation and causation; Misleading charts; "
            "Reading a study critically",
        ),
    ),
    CourseSpec(
        title="Deep Learning with PyTorch",
        subtitle="Build, train and debug neural networks for vision and text",
        teacher=1,
        level=CourseLevel.ADVANCED,
        usd=8999,
        inr=449900,
        was=True,
        about="This course takes you from tensors to training modern architectures, with the "
        "focus on understanding why a network trains well or badly. You will write your own "
        "training loops rather than hiding behind high-level wrappers.\n\n"
        "Projects include an image classifier, a fine-tuned text model and a small generative "
        "model. Comfort with Python and basic linear algebra is expected.",
        learn=(
            "Work fluently with tensors, autograd and GPU training",
            "Build convolutional networks and transformers from components",
            "Debug training with learning-rate schedules, normalisation and good logging",
            "Fine-tune pretrained models on your own data",
        ),
        chapters=(
            "Tensors and autograd | Tensors on CPU and GPU; Automatic differentiation; "
            "A neural network from scratch",
            "Training well | The training loop; Optimisers and learning rates; Regularisation; "
            "Debugging a model that will not learn",
            "Vision | Convolutions; Building a CNN; Transfer learning; "
            "Project: an image classifier",
            "Sequences and text | Embeddings; Attention; Transformers; "
            "Fine-tuning a language model",
            "Generative models | Autoencoders; Diffusion in a nutshell; Project: generating images",
            "Production | Saving and exporting models; Inference performance",
        ),
    ),
    CourseSpec(
        title="Análisis de Datos con Excel y Power BI",
        subtitle="Convierte hojas de cálculo en informes claros y paneles interactivos",
        teacher=3,
        level=CourseLevel.BEGINNER,
        language="es",
        usd=2499,
        inr=None,
        about="Este curso te enseña a limpiar, analizar y presentar datos con las herramientas "
        "que ya usa tu empresa. Empezamos con tablas dinámicas en Excel y terminamos con un "
        "panel interactivo en Power BI.\n\n"
        "Trabajarás con un conjunto de datos de ventas real desde la primera clase, así que "
        "cada técnica tiene una aplicación inmediata.",
        learn=(
            "Limpiar y preparar datos con Power Query",
            "Resumir información con tablas dinámicas y fórmulas clave",
            "Crear modelos de datos y medidas con DAX",
            "Diseñar paneles interactivos y compartirlos con tu equipo",
        ),
        chapters=(
            "Excel para análisis | Tablas y referencias; BUSCARX y funciones esenciales; "
            "Tablas dinámicas",
            "Preparar los datos | Introducción a Power Query; Limpieza de datos; Combinar fuentes",
            "Power BI | Primeros pasos en Power BI; El modelo de datos; Medidas con DAX; "
            "Visualizaciones",
            "El panel final | Diseño de un panel; Filtros y segmentaciones; Publicar y compartir",
        ),
    ),
)

WEB_DEVELOPMENT: tuple[CourseSpec, ...] = (
    CourseSpec(
        title="HTML & CSS: Build Your First Website",
        subtitle="From an empty folder to a published personal site",
        teacher=2,
        level=CourseLevel.BEGINNER,
        usd=0,
        inr=0,
        about="Everyone who builds for the web starts here. You will write a personal website by "
        "hand, learning how HTML gives a page its structure and CSS gives it its look.\n\n"
        "By the last chapter your site will be responsive, accessible and live on the internet "
        "for free.",
        learn=(
            "Structure pages with semantic HTML",
            "Style text, colours and spacing with CSS",
            "Build responsive layouts with Flexbox and Grid",
            "Publish a site with free static hosting",
        ),
        chapters=(
            "How the web works | Browsers, servers and URLs; Your editor and dev tools; "
            "Your first page",
            "HTML | Headings, paragraphs and links; Images; Lists and tables; Forms; "
            "Semantic structure",
            "CSS | Selectors and the cascade; Colours and fonts; The box model; Flexbox; CSS Grid",
            "Finishing touches | Responsive design; Accessibility basics; Publishing your site",
        ),
    ),
    CourseSpec(
        title="React from the Ground Up",
        subtitle="Components, hooks and state management for real-world apps",
        teacher=2,
        level=CourseLevel.INTERMEDIATE,
        usd=5999,
        inr=249900,
        was=True,
        featured=True,
        about="React is easy to start with and surprisingly easy to misuse. This course builds a "
        "complete task-management app and uses it to show how experienced developers structure "
        "components, manage state and avoid unnecessary re-renders.\n\n"
        "You should know modern JavaScript; everything about React itself is explained from "
        "scratch.",
        learn=(
            "Think in components and props",
            "Manage state and side effects with hooks",
            "Fetch data, handle loading states and cache results",
            "Test components and keep large apps maintainable",
        ),
        chapters=(
            "React fundamentals | Why React; JSX; Components and props; Rendering lists",
            "State and effects | useState; Handling events; useEffect; Custom hooks",
            "Data and routing | Fetching data; Loading and error states; Client-side routing; "
            "Forms",
            "Scaling up | Context; Reducers; Performance and memoisation; Testing components",
        ),
    ),
    CourseSpec(
        title="Full-Stack Web Apps with Flask and PostgreSQL",
        subtitle="Build, test and deploy a database-backed web application",
        teacher=1,
        level=CourseLevel.INTERMEDIATE,
        usd=6499,
        inr=299900,
        about="Flask keeps things small and explicit, which makes it a great way to learn how web "
        "applications really work. Together we build a bookmarking app with accounts, search and "
        "a clean HTML interface.\n\n"
        "You will write Python on the server, model data with SQLAlchemy, manage schema changes "
        "with migrations and deploy the finished app to a real server.",
        learn=(
            "Structure a Flask app with blueprints and an app factory",
            "Model data with SQLAlchemy and manage migrations",
            "Add authentication, forms and CSRF protection",
            "Test the app and deploy it behind a production server",
        ),
        chapters=(
            "Foundations | Routes and templates; The app factory; Configuration",
            "Data | Setting up PostgreSQL; SQLAlchemy models; Migrations; Queries that scale",
            "Users | Registration and login; Password hashing; Forms and validation; "
            "CSRF protection",
            "Features | Full-text search; Pagination; Background jobs",
            "Shipping | Writing tests; Logging and errors; Deploying with Gunicorn",
        ),
    ),
    CourseSpec(
        title="Web Accessibility in Practice",
        subtitle="Build sites that work for everyone, and test them properly",
        teacher=1,
        level=CourseLevel.ALL,
        usd=3999,
        inr=149900,
        about="About one in six people lives with a disability, and many of them are shut out by "
        "websites that were never tested with a keyboard or a screen reader. This course shows "
        "how to fix that with everyday techniques rather than last-minute audits.\n\n"
        "You will learn to test with real assistive technology and to write HTML, CSS and "
        "JavaScript that is accessible by default.",
        learn=(
            "Understand WCAG and what it asks of you",
            "Write semantic HTML and use ARIA only when needed",
            "Make forms, menus and dialogs work with keyboards and screen readers",
            "Test with screen readers and automated tools",
        ),
        chapters=(
            "Why accessibility matters | Who is affected; WCAG in plain words",
            "Accessible markup | Semantic HTML; Headings and landmarks; Images and alt text; "
            "ARIA, carefully",
            "Interactive components | Keyboard navigation; Focus management; Accessible forms; "
            "Dialogs and menus",
            "Testing | Screen reader basics; Automated checks; An audit walkthrough",
        ),
    ),
    CourseSpec(
        title="TypeScript Deep Dive: Types That Scale",
        subtitle="Generics, inference and type-level patterns for large codebases",
        teacher=1,
        level=CourseLevel.ADVANCED,
        usd=5499,
        inr=229900,
        draft=True,
        about="TypeScript's type system is far more expressive than most projects use. This "
        "course explores generics, conditional and mapped types, and the patterns that let "
        "large teams catch bugs before they ship.\n\n"
        "Each chapter refactors part of a real codebase, so you see the trade-offs between "
        "clever types and readable ones.",
        learn=(
            "Write precise generic functions and components",
            "Use conditional, mapped and template literal types",
            "Model domain rules so invalid states cannot be represented",
            "Migrate an existing JavaScript codebase incrementally",
        ),
        chapters=(
            "Beyond the basics | Structural typing; Inference; Narrowing",
            "Generics | Generic functions; Constraints; Generic components",
            "Type-level programming | Conditional types; Mapped types; Template literal types; "
            "Utility types from scratch",
            "In practice | Modelling domain rules; Typing API boundaries; Incremental migration",
        ),
    ),
)

DESIGN: tuple[CourseSpec, ...] = (
    CourseSpec(
        title="Figma Essentials for UI Design",
        subtitle="Design clean, consistent interfaces and hand them off with confidence",
        teacher=2,
        level=CourseLevel.BEGINNER,
        usd=2999,
        inr=119900,
        featured=True,
        about="Figma has become the standard tool for interface design, and this course gets you "
        "productive in it quickly. We design a mobile banking app from wireframe to polished "
        "prototype.\n\n"
        "You will learn the features professionals rely on every day: auto layout, components, "
        "variants and a smooth handoff to developers.",
        learn=(
            "Navigate Figma and organise files and pages",
            "Build responsive layouts with frames and auto layout",
            "Create reusable components and variants",
            "Prototype interactions and prepare designs for developers",
        ),
        chapters=(
            "Getting started | The Figma interface; Frames and shapes; Text and colour styles",
            "Layout | Constraints; Auto layout; Layout grids",
            "Components | Creating components; Variants; Building a small UI kit",
            "Prototyping and handoff | Interactive prototypes; Sharing and comments; "
            "Developer handoff",
        ),
    ),
    CourseSpec(
        title="Typography That Works",
        subtitle="Choose, pair and set type for screens and print",
        teacher=2,
        level=CourseLevel.ALL,
        usd=1999,
        inr=79900,
        about="Good typography is invisible: readers simply find the text easy and pleasant. "
        "This course explains the principles behind that feeling and turns them into rules you "
        "can apply to any project.\n\n"
        "We cover classification, pairing, hierarchy and the fine details of spacing, with many "
        "before-and-after examples.",
        learn=(
            "Recognise type classifications and what they communicate",
            "Pair typefaces that complement each other",
            "Create clear hierarchy with size, weight and spacing",
            "Set comfortable body text for the web",
        ),
        chapters=(
            "Understanding type | Anatomy of a letter; Serif, sans and beyond; Choosing a typeface",
            "Hierarchy | Scale and size; Weight and contrast; Pairing typefaces",
            "Details | Line length and line height; Kerning and tracking; Typography for the web",
        ),
    ),
    CourseSpec(
        title="Design Systems for Product Teams",
        subtitle="Tokens, components and governance that survive real product work",
        teacher=2,
        level=CourseLevel.ADVANCED,
        usd=7499,
        inr=None,
        was=True,
        about="A design system is a product in its own right, with users, releases and "
        "maintenance. This course is for designers and front-end engineers who need to build "
        "one that teams actually adopt.\n\n"
        "Drawing on case studies from companies of different sizes, we cover design tokens, "
        "component APIs, documentation and the governance that keeps a system healthy.",
        learn=(
            "Define design tokens for colour, type and spacing",
            "Design component APIs shared by design and code",
            "Document and version a design system",
            "Run contribution and governance processes that scale",
        ),
        chapters=(
            "Foundations | What a design system is; Auditing an existing product; Design tokens",
            "Components | Component anatomy; Designing APIs; Theming; Accessibility built in",
            "Documentation | Writing usage guidelines; Living documentation sites",
            "Operating the system | Versioning and releases; Contribution models; "
            "Measuring adoption",
        ),
    ),
    CourseSpec(
        title="Colour Theory for Digital Designers",
        subtitle="Build harmonious, accessible palettes with confidence",
        teacher=3,
        level=CourseLevel.BEGINNER,
        usd=0,
        inr=0,
        about="Colour choices can make a design feel calm, urgent, playful or trustworthy. This "
        "short course explains how colour works and gives you a repeatable method for building "
        "palettes.\n\n"
        "We finish with accessibility, so your palettes look good and stay readable for "
        "everyone.",
        learn=(
            "Understand hue, saturation, value and temperature",
            "Build palettes with complementary and analogous schemes",
            "Use colour to create hierarchy and mood",
            "Check contrast for accessibility",
        ),
        chapters=(
            "How colour works | The colour wheel; Hue, saturation and value; Warm and cool colours",
            "Building palettes | Colour harmonies; A palette from a photo; Neutrals and accents",
            "Colour in interfaces | Hierarchy and emphasis; Contrast and accessibility; "
            "Designing for dark mode",
        ),
    ),
    CourseSpec(
        title="UX Research Methods",
        subtitle="Interviews, usability tests and surveys that lead to better products",
        teacher=3,
        level=CourseLevel.INTERMEDIATE,
        usd=4499,
        inr=179900,
        about="Research is how product teams stop guessing. This course covers the methods "
        "researchers use most, when each one fits and how to run it well on a small budget.\n\n"
        "You will plan a study, recruit participants, run interviews and usability tests, and "
        "turn the findings into decisions your team will act on.",
        learn=(
            "Choose the right research method for a question",
            "Plan and run user interviews without leading participants",
            "Run moderated and unmoderated usability tests",
            "Synthesise findings and present them persuasively",
        ),
        chapters=(
            "Planning research | Research questions; Choosing a method; Recruiting participants",
            "Talking to users | Interview guides; Running interviews; Avoiding bias",
            "Usability testing | Writing tasks; Moderated sessions; Remote unmoderated tests",
            "Making sense of it | Affinity mapping; Personas and journey maps; Presenting findings",
            "Quantitative methods | Surveys; Analytics for researchers",
        ),
    ),
)

BUSINESS: tuple[CourseSpec, ...] = (
    CourseSpec(
        title="Financial Modelling in Excel",
        subtitle="Build three-statement models and valuations the way analysts do",
        teacher=3,
        level=CourseLevel.INTERMEDIATE,
        usd=5999,
        inr=249900,
        was=True,
        about="Financial models drive investment decisions, budgets and fundraising. This course "
        "teaches you to build them cleanly, with a structure other people can audit and "
        "trust.\n\n"
        "We build a complete three-statement model for a growing company, then use it for a "
        "discounted cash flow valuation and scenario analysis.",
        learn=(
            "Structure a model with clear inputs, calculations and outputs",
            "Link the income statement, balance sheet and cash flow",
            "Value a company with a discounted cash flow",
            "Run scenarios and sensitivity tables",
        ),
        chapters=(
            "Modelling principles | Layout and colour conventions; "
            "Excel shortcuts that save hours; Error checks",
            "The three statements | Revenue and cost drivers; Income statement; "
            "Balance sheet; Cash flow statement",
            "Valuation | Free cash flow; Discount rates; Terminal value",
            "Analysis | Scenarios; Sensitivity tables; Presenting the model",
        ),
    ),
    CourseSpec(
        title="Project Management Fundamentals",
        subtitle="Plan, run and deliver projects on time without burning out your team",
        teacher=3,
        level=CourseLevel.BEGINNER,
        usd=3499,
        inr=139900,
        about="Most people become project managers by accident. This course gives you the "
        "toolkit experienced managers use, whether your team follows a traditional plan or "
        "works in agile sprints.\n\n"
        "Templates for every stage are included, from the project charter to the final "
        "retrospective.",
        learn=(
            "Define scope, goals and stakeholders",
            "Build realistic schedules and budgets",
            "Run agile ceremonies and manage a backlog",
            "Manage risks, changes and difficult conversations",
        ),
        chapters=(
            "Starting a project | What a project is; The project charter; Stakeholders",
            "Planning | Work breakdown; Estimating; Scheduling; Budgeting",
            "Agile delivery | Scrum in practice; Kanban; Managing a backlog",
            "Keeping on track | Risk management; Status reporting; Change control; "
            "Closing and retrospectives",
        ),
    ),
    CourseSpec(
        title="Share Market Investing for Beginners (Hindi)",
        subtitle="Understand shares, mutual funds and long-term investing, explained in Hindi",
        teacher=1,
        level=CourseLevel.BEGINNER,
        language="hi",
        usd=None,
        inr=49900,
        about="Investing can feel intimidating when every video promises quick profits. This "
        "course explains, in simple Hindi, how the Indian stock market actually works and how "
        "ordinary savers can invest sensibly for the long term.\n\n"
        "There are no tips or trading signals here, only the understanding you need to make "
        "your own decisions.",
        learn=(
            "Understand how NSE, BSE, brokers and demat accounts fit together",
            "Read a company's basic financial statements",
            "Compare stocks, index funds and mutual funds",
            "Build a simple long-term investing plan",
        ),
        chapters=(
            "Market basics | What a share is; Exchanges and brokers; Opening a demat account",
            "Analysing companies | Reading an annual report; Key ratios; Red flags",
            "Funds | Mutual funds explained; Index funds and ETFs; SIPs",
            "Your plan | Risk and diversification; Taxes on investments; "
            "Building a long-term portfolio",
        ),
    ),
    CourseSpec(
        title="Negotiation Skills for Professionals",
        subtitle="Prepare, persuade and reach agreements that last",
        teacher=3,
        level=CourseLevel.ALL,
        usd=3999,
        inr=159900,
        featured=True,
        about="Whether you are asking for a raise, closing a sale or agreeing a deadline, you are "
        "negotiating. This course teaches a practical, principled approach that gets results "
        "without damaging relationships.\n\n"
        "Every technique is practised through role-play scenarios, with model answers and "
        "common mistakes explained.",
        learn=(
            "Prepare with interests, options and a clear walk-away point",
            "Anchor, concede and trade value deliberately",
            "Handle tough tactics and emotional moments",
            "Negotiate salaries, contracts and internal deadlines",
        ),
        chapters=(
            "Preparation | Positions and interests; Your walk-away alternative; Setting targets",
            "At the table | Opening and anchoring; Asking good questions; Making concessions",
            "Difficult situations | Hard bargainers; Emotions at the table; Breaking deadlock",
            "Common negotiations | Salary negotiation; Vendor contracts; "
            "Negotiating inside your company",
        ),
    ),
    CourseSpec(
        title="Liderazgo de Equipos Remotos",
        subtitle="Dirige equipos distribuidos con claridad, confianza y buenos resultados",
        teacher=3,
        level=CourseLevel.INTERMEDIATE,
        language="es",
        usd=4999,
        inr=199900,
        about="Liderar a personas que no ves cada día exige hábitos distintos. En este curso "
        "aprenderás a comunicar expectativas, mantener la motivación y tomar decisiones con un "
        "equipo repartido en varias zonas horarias.\n\n"
        "Cada capítulo incluye plantillas y ejemplos reales de empresas que trabajan en remoto "
        "desde hace años.",
        learn=(
            "Establecer acuerdos de trabajo y canales de comunicación claros",
            "Dirigir reuniones remotas breves y útiles",
            "Dar feedback y acompañar el desarrollo a distancia",
            "Cuidar la cultura y prevenir el agotamiento del equipo",
        ),
        chapters=(
            "Fundamentos | Qué cambia al liderar en remoto; Acuerdos de trabajo; Herramientas",
            "Comunicación | Comunicación asíncrona; Reuniones eficaces; Documentar decisiones",
            "Personas | Confianza y autonomía; Feedback a distancia; Conversaciones difíciles",
            "Cultura | Incorporar a nuevas personas; Rituales de equipo; Prevenir el agotamiento",
        ),
    ),
)

MARKETING: tuple[CourseSpec, ...] = (
    CourseSpec(
        title="SEO Fundamentals: Rank Without Tricks",
        subtitle="Keyword research, on-page SEO and content that earns links",
        teacher=2,
        level=CourseLevel.BEGINNER,
        usd=2499,
        inr=99900,
        about="Search engines reward pages that genuinely answer people's questions. This course "
        "shows you how to find those questions, structure pages around them and fix the "
        "technical issues that hold good content back.\n\n"
        "You will audit and improve a real website as you go, with a checklist you can reuse "
        "on any project.",
        learn=(
            "Research keywords and search intent",
            "Optimise titles, headings and internal links",
            "Fix common technical SEO problems",
            "Measure results with Search Console",
        ),
        chapters=(
            "How search works | Crawling and indexing; Ranking factors; Search intent",
            "Keyword research | Finding keywords; Judging difficulty; Mapping keywords to pages",
            "On-page SEO | Titles and meta descriptions; Content structure; Internal linking",
            "Technical SEO | Site speed; Mobile friendliness; Structured data; "
            "Measuring with Search Console",
        ),
    ),
    CourseSpec(
        title="Content Marketing That Converts",
        subtitle="Plan, write and distribute content that brings in customers",
        teacher=3,
        level=CourseLevel.INTERMEDIATE,
        usd=3999,
        inr=149900,
        was=True,
        about="Publishing more content is easy; publishing content that brings in customers is "
        "not. This course gives you a strategy-first approach: know your audience, choose "
        "topics that matter to them and measure what works.\n\n"
        "We cover blog posts, newsletters, case studies and social posts, with examples from "
        "both B2B and consumer brands.",
        learn=(
            "Define audiences and a content strategy",
            "Write headlines and articles people finish reading",
            "Repurpose content across channels",
            "Track content performance back to revenue",
        ),
        chapters=(
            "Strategy | Audience research; Content pillars; Editorial calendars",
            "Writing | Headlines; Structure and flow; Calls to action; Editing your own work",
            "Distribution | Newsletters; Social media; Repurposing",
            "Measurement | Content metrics; Attribution; Iterating on what works",
        ),
    ),
    CourseSpec(
        title="Google Ads for Small Businesses",
        subtitle="Launch profitable search campaigns on a modest budget",
        teacher=2,
        level=CourseLevel.BEGINNER,
        usd=2999,
        inr=129900,
        about="Paid search can bring in customers the same day, or quietly burn through your "
        "budget. This course shows small business owners how to set up Google Ads campaigns "
        "that stay profitable.\n\n"
        "We build a campaign for a local bakery step by step, from keyword choice to a weekly "
        "optimisation routine.",
        learn=(
            "Structure campaigns and ad groups sensibly",
            "Choose keywords and negative keywords",
            "Write ads that earn clicks from the right people",
            "Track conversions and optimise spend every week",
        ),
        chapters=(
            "Setting up | How Google Ads works; Account setup; Conversion tracking",
            "Campaigns | Campaign structure; Keywords and match types; Writing ads",
            "Optimisation | Reading reports; Bids and budgets; A weekly optimisation routine",
        ),
    ),
    CourseSpec(
        title="Email Marketing Automation",
        subtitle="Welcome series, segmentation and campaigns that run while you sleep",
        teacher=3,
        level=CourseLevel.INTERMEDIATE,
        usd=3499,
        inr=139900,
        draft=True,
        about="Email is still the channel with the best return for most businesses, especially "
        "when it is automated thoughtfully. This course shows you how to design sequences that "
        "feel personal rather than robotic.\n\n"
        "We build a welcome series, an abandoned-cart flow and a re-engagement campaign, and "
        "measure each one.",
        learn=(
            "Grow a list with consent and good lead magnets",
            "Segment subscribers by behaviour",
            "Design automated sequences and flows",
            "Improve deliverability and measure results",
        ),
        chapters=(
            "List building | Consent and compliance; Lead magnets; Signup forms",
            "Automation | Welcome series; Abandoned-cart flows; Re-engagement campaigns",
            "Optimisation | Segmentation; A/B testing; Deliverability",
        ),
    ),
    CourseSpec(
        title="Marketing Digital para Emprendedores",
        subtitle="Atrae a tus primeros clientes con redes sociales, contenido y correo",
        teacher=3,
        level=CourseLevel.BEGINNER,
        language="es",
        usd=0,
        inr=0,
        about="Si tienes un pequeño negocio o un proyecto propio, este curso te ayuda a darlo a "
        "conocer sin un gran presupuesto. Verás qué canales conviene priorizar y cómo medir si "
        "tu esfuerzo funciona.\n\n"
        "Todo se explica con ejemplos de emprendedores reales y plantillas listas para usar.",
        learn=(
            "Definir tu cliente ideal y tu propuesta de valor",
            "Crear un plan de contenido para redes sociales",
            "Empezar una lista de correo y enviar tu primera campaña",
            "Medir resultados con métricas sencillas",
        ),
        chapters=(
            "Primeros pasos | Tu cliente ideal; Propuesta de valor; Elegir canales",
            "Redes sociales | Plan de contenido; Crear publicaciones; Construir comunidad",
            "Correo y medición | Tu lista de correo; Tu primera campaña; Métricas básicas",
        ),
    ),
)

PERSONAL_DEVELOPMENT: tuple[CourseSpec, ...] = (
    CourseSpec(
        title="Productivity Systems That Stick",
        subtitle="Plan your week, protect your focus and finish what matters",
        teacher=1,
        level=CourseLevel.ALL,
        usd=1999,
        inr=69900,
        about="Productivity advice is everywhere, but most systems collapse after a fortnight. "
        "This course helps you build a simple, personal system from proven ideas and keep it "
        "running when life gets busy.\n\n"
        "You will set up a task list, a weekly review and a focus routine, and learn how to "
        "adjust them as your work changes.",
        learn=(
            "Capture and organise tasks in one trusted place",
            "Plan weeks and days around priorities",
            "Protect deep-focus time from interruptions",
            "Run a weekly review that keeps the system alive",
        ),
        chapters=(
            "Foundations | Why systems fail; Capturing everything; Choosing your tools",
            "Planning | Weekly planning; Daily planning; Prioritising",
            "Focus | Time blocking; Managing interruptions; Energy, not just time",
            "Keeping it going | The weekly review; When things slip",
        ),
    ),
    CourseSpec(
        title="Public Speaking with Confidence",
        subtitle="Structure talks, handle nerves and hold any room",
        teacher=2,
        level=CourseLevel.BEGINNER,
        usd=2999,
        inr=99900,
        was=True,
        featured=True,
        about="Nearly everyone gets nervous before speaking in public, including experienced "
        "speakers. This course gives you practical techniques for managing nerves and a "
        "reliable structure for talks of any length.\n\n"
        "You will record yourself throughout, so by the end you can see and hear the "
        "difference.",
        learn=(
            "Structure a talk with a clear message and a memorable opening",
            "Manage nerves with breathing and preparation",
            "Use voice, pauses and body language deliberately",
            "Handle questions and difficult audiences",
        ),
        chapters=(
            "Preparation | Finding your message; Structuring a talk; Openings and closings",
            "Delivery | Voice and pace; Body language; Using slides well",
            "Confidence | Where nerves come from; Practice routines; Recording yourself",
            "Real situations | Questions and answers; Speaking online; Impromptu speaking",
        ),
    ),
    CourseSpec(
        title="Mindfulness for Busy People",
        subtitle="Ten-minute practices for calmer, clearer days",
        teacher=3,
        level=CourseLevel.BEGINNER,
        usd=0,
        inr=0,
        about="You do not need an hour a day or a quiet retreat to benefit from mindfulness. "
        "This course offers short guided practices that fit into a commute, a lunch break or "
        "the minutes before a meeting.\n\n"
        "Each lesson pairs a practice with a brief, evidence-based explanation of why it helps.",
        learn=(
            "Understand what mindfulness is and is not",
            "Use breathing practices to calm stress quickly",
            "Build a short daily habit that lasts",
            "Bring mindful attention to work and conversations",
        ),
        chapters=(
            "Starting out | What mindfulness is; Your first practice; Building the habit",
            "Everyday practices | Mindful breathing; The body scan; Mindful walking",
            "Mindfulness at work | Focus and attention; Stress before meetings; Mindful listening",
        ),
    ),
    CourseSpec(
        title="Interview Preparation in Hindi",
        subtitle="Crack HR and technical interviews with confidence, explained in Hindi",
        teacher=1,
        level=CourseLevel.BEGINNER,
        language="hi",
        usd=1999,
        inr=49900,
        was=True,
        about="Many capable candidates lose jobs in the interview room rather than on skills. "
        "This course, explained in simple Hindi, prepares freshers and early-career "
        "professionals for every stage of the hiring process.\n\n"
        "You will practise answers to common questions, polish your resume and learn how to "
        "follow up after the interview.",
        learn=(
            "Write a resume that gets shortlisted",
            "Answer common HR questions with clear, honest stories",
            "Prepare for group discussions and technical rounds",
            "Negotiate offers and follow up professionally",
        ),
        chapters=(
            "Getting shortlisted | Resume basics; Your LinkedIn profile; Applying smartly",
            "The HR round | Tell me about yourself; Strengths and weaknesses; "
            "Behavioural questions",
            "Other rounds | Group discussions; Technical rounds; Video interviews",
            "After the interview | Follow-up emails; Handling offers and rejections",
        ),
    ),
    CourseSpec(
        title="Critical Thinking and Decision Making",
        subtitle="Reason clearly, avoid common biases and make better choices",
        teacher=1,
        level=CourseLevel.INTERMEDIATE,
        usd=3499,
        inr=129900,
        about="Good decisions rarely come from gut feeling alone. This course introduces the "
        "tools of clear thinking, from spotting weak arguments to weighing evidence and "
        "uncertainty.\n\n"
        "We apply each tool to realistic personal and workplace decisions, so the ideas stay "
        "practical.",
        learn=(
            "Break arguments into claims, evidence and assumptions",
            "Recognise common cognitive biases in yourself and others",
            "Use simple frameworks for complex decisions",
            "Decide under uncertainty and learn from the outcomes",
        ),
        chapters=(
            "Thinking clearly | Arguments and evidence; Common fallacies; Asking better questions",
            "Biases | Confirmation bias; Anchoring and framing; Overconfidence",
            "Deciding | Decision matrices; Expected value; Pre-mortems",
            "Learning | Keeping a decision journal; Separating luck from skill",
        ),
    ),
)

MUSIC_AUDIO: tuple[CourseSpec, ...] = (
    CourseSpec(
        title="Music Theory for Songwriters",
        subtitle="Scales, chords and progressions you can use in your next song",
        teacher=2,
        level=CourseLevel.BEGINNER,
        usd=2499,
        inr=99900,
        was=True,
        about="Music theory should make writing songs easier, not harder. This course teaches "
        "the theory songwriters actually use, always through examples on piano and guitar.\n\n"
        "You will write short pieces after each chapter, finishing with a complete song built "
        "on what you have learned.",
        learn=(
            "Read notes, rhythms and key signatures",
            "Build major and minor scales and chords",
            "Write progressions that create tension and release",
            "Craft melodies that fit your chords",
        ),
        chapters=(
            "The basics | Notes and the keyboard; Rhythm and metre; Intervals",
            "Scales and keys | Major scales; Minor scales; Key signatures",
            "Chords | Triads; Seventh chords; Common progressions; Borrowed chords",
            "Writing songs | Melody writing; Song structure; Writing a complete song",
        ),
    ),
    CourseSpec(
        title="Mixing and Mastering in Ableton Live",
        subtitle="Professional-sounding mixes from your home studio",
        teacher=2,
        level=CourseLevel.ADVANCED,
        usd=7999,
        inr=329900,
        about="A great mix makes every element of a track clear and powerful. This course "
        "follows three full productions, an electronic track, a pop song and a hip-hop beat, "
        "from rough balance to finished master.\n\n"
        "It assumes you already produce music in Ableton Live and want to close the gap "
        "between your demos and commercial releases.",
        learn=(
            "Set up a mixing session and gain stage properly",
            "Use EQ, compression and saturation with purpose",
            "Create depth and width with reverb, delay and panning",
            "Master tracks for streaming platforms",
        ),
        chapters=(
            "Preparing the mix | Session organisation; Gain staging; Reference tracks",
            "Core processing | EQ; Compression; Saturation; Bus processing",
            "Space and depth | Reverb; Delay; Stereo width",
            "Mastering | Loudness for streaming; Limiting; Final checks",
        ),
    ),
    CourseSpec(
        title="Guitarra Acústica desde Cero",
        subtitle="Aprende acordes, ritmos y tus primeras canciones completas",
        teacher=3,
        level=CourseLevel.BEGINNER,
        language="es",
        usd=2999,
        inr=119900,
        about="Nunca es tarde para aprender a tocar la guitarra. Este curso te acompaña desde "
        "cómo sostener el instrumento hasta tocar canciones completas con acordes y ritmos "
        "variados.\n\n"
        "Cada clase incluye ejercicios cortos para practicar a diario y avanzar sin frustración.",
        learn=(
            "Afinar la guitarra y adoptar una buena postura",
            "Tocar los acordes abiertos más usados",
            "Dominar ritmos de rasgueo y arpegios sencillos",
            "Tocar canciones completas de principio a fin",
        ),
        chapters=(
            "Primeros pasos | Partes de la guitarra; Afinación; Postura y manos",
            "Acordes | Tus primeros acordes; Cambios de acorde; Acordes con cejilla",
            "Ritmo | Rasgueos básicos; Arpegios; Tocar con metrónomo",
            "Canciones | Tu primera canción; Canciones populares; Una rutina de práctica",
        ),
    ),
    CourseSpec(
        title="Podcast Production from Idea to Launch",
        subtitle="Plan, record, edit and publish a podcast people want to hear",
        teacher=3,
        level=CourseLevel.ALL,
        usd=3999,
        inr=149900,
        about="Starting a podcast is easy; making one that listeners return to every week takes "
        "planning and craft. This course covers the whole journey, from shaping your concept "
        "to publishing your first episodes.\n\n"
        "You will learn to get good sound on a modest budget, edit efficiently and grow an "
        "audience without a marketing team.",
        learn=(
            "Define your show's format and audience",
            "Record clean audio at home and remotely",
            "Edit, mix and master episodes efficiently",
            "Publish, distribute and grow your show",
        ),
        chapters=(
            "Planning | Finding your concept; Choosing a format; Planning episodes",
            "Recording | Microphones and rooms; Recording remote guests; Interview techniques",
            "Editing | An editing workflow; Cleaning up audio; Music and sound design",
            "Launch | Hosting and distribution; Artwork and show notes; Growing your audience",
        ),
    ),
    CourseSpec(
        title="Beat Making with FL Studio",
        subtitle="Program drums, bass and melodies for hip-hop and electronic music",
        teacher=2,
        level=CourseLevel.INTERMEDIATE,
        usd=4499,
        inr=179900,
        about="FL Studio is famous for fast, fun beat making, and this course shows you how to "
        "get the most out of it. You will program drums that groove, design heavy bass and "
        "write melodies that stick.\n\n"
        "By the end you will have finished three complete beats and a workflow that lets you "
        "start new ideas in minutes.",
        learn=(
            "Navigate the channel rack, piano roll and playlist",
            "Program drums with swing and variation",
            "Design bass and lead sounds with stock synths",
            "Arrange a loop into a complete beat",
        ),
        chapters=(
            "Getting started | The FL Studio workflow; Channel rack and patterns; Piano roll",
            "Drums | Choosing samples; Programming grooves; Swing and humanisation",
            "Bass and melody | 808s and bass lines; Chords and melodies; "
            "Sound design with stock synths",
            "Finishing beats | Arranging; Transitions; Quick mixing; Exporting",
        ),
    ),
)

# Category slug -> its five courses, in the order of CATEGORIES.
COURSES: dict[str, tuple[CourseSpec, ...]] = {
    "programming": PROGRAMMING,
    "data-science": DATA_SCIENCE,
    "web-development": WEB_DEVELOPMENT,
    "design": DESIGN,
    "business": BUSINESS,
    "marketing": MARKETING,
    "personal-development": PERSONAL_DEVELOPMENT,
    "music-audio": MUSIC_AUDIO,
}

package io.logferry;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package plan of docs/architecture.md, checked on the compiled classes: no package cycle,
 * a leaf package of shared value types, and data moving forward only (a stage never imports the
 * stages after it, nor the output's wire format).
 */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // the main classes only, wherever the build directory is (logferry.build.dir may move it off target/)
        ImportOption mainOnly = location -> !location.contains("/test-classes/");
        classes = new ClassFileImporter().withImportOption(mainOnly).importPackages("io.logferry");
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.logferry.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void theModelIsALeaf() {
        rule("model", "config", "decode", "docker", "elasticsearch", "http", "logging", "metrics", "pipeline", "registry",
                "selection", "tail", "cli", "retry", "spool", "process", "migrate").check(classes);
        noClasses().that().resideInAPackage("io.logferry.model..").should().dependOnClassesThat()
                .belongToAnyOf(Agent.class).check(classes);
    }

    @Test
    void theBackoffHelperIsALeaf() {
        rule("retry", "model", "config", "decode", "docker", "elasticsearch", "http", "logging", "metrics", "pipeline",
                "registry", "selection", "tail", "cli", "spool", "process", "migrate").check(classes);
        noClasses().that().resideInAPackage("io.logferry.retry..").should().dependOnClassesThat()
                .belongToAnyOf(Agent.class).check(classes);
    }

    @Test
    void decodingAndSelectionKnowNothingOfDockerTailersOrTheOutput() {
        rule("decode", "docker", "tail", "elasticsearch", "pipeline", "http", "cli").check(classes);
        rule("selection", "docker", "tail", "elasticsearch", "pipeline", "http", "cli", "decode").check(classes);
    }

    @Test
    void theOutputKnowsNothingOfTailersOrDocker() {
        rule("elasticsearch", "tail", "docker", "selection", "registry", "http", "cli").check(classes);
        rule("pipeline", "tail", "docker", "selection", "elasticsearch", "decode", "http", "cli").check(classes);
    }

    @Test
    void tailersHandMessagesToAnEncoderNotToTheWireFormat() {
        rule("tail", "elasticsearch", "docker", "selection", "http", "cli").check(classes);
        rule("registry", "elasticsearch", "tail", "docker", "pipeline", "http", "cli").check(classes);
    }

    @Test
    void theFilebeatMigrationReadsFilesAndWritesTheRegistryOnly() {
        // it runs while the agent is stopped: it never ships, decodes, or talks to Docker itself (cli hands it what it needs)
        rule("migrate", "elasticsearch", "pipeline", "http", "decode", "process", "spool", "docker", "selection").check(classes);
        rule("tail", "migrate").check(classes);
        rule("registry", "migrate").check(classes);
    }

    @Test
    void theRotationWatchIsTheAgentsAndTheTailersOnly() {
        // one per agent, made and closed by it (issue 24): no other package reaches the rotation core
        noClasses().that().resideOutsideOfPackage("io.logferry.tail..").and().doNotBelongToAnyOf(Agent.class)
                .should().dependOnClassesThat().belongToAnyOf(io.logferry.tail.RotationWatch.class).check(classes);
    }

    private static final String TAIL = "io.logferry.tail.";

    @Test
    void theChainsPiecesAreReachedThroughTheChainOnly() {
        // issue 24: the tailer, the watch and the prefetcher see one RotationChain; its pieces are its own
        noClasses().that().doNotHaveFullyQualifiedName(TAIL + "RotationChain")
                .and().haveNameNotMatching("io\\.logferry\\.tail\\.Chain.*")
                .should().dependOnClassesThat().haveNameMatching("io\\.logferry\\.tail\\.Chain(Scanner|Holder|Spooler|HandOff).*")
                .check(classes);
    }

    @Test
    void eachPieceOfTheChainHasOneJob() {
        // the spooler decides copies and never looks at the directory (the scanner's job) nor lists it itself
        noClasses().that().haveFullyQualifiedName(TAIL + "ChainSpooler").should().dependOnClassesThat()
                .haveFullyQualifiedName(TAIL + "ChainScanner")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.nio.file.Files")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.nio.file.DirectoryStream").check(classes);
        // the scanner discovers and hands over: it neither copies nor holds nor knows the spool
        noClasses().that().haveFullyQualifiedName(TAIL + "ChainScanner").should().dependOnClassesThat()
                .resideInAPackage("io.logferry.spool..")
                .orShould().dependOnClassesThat().haveNameMatching("io\\.logferry\\.tail\\.Chain(Holder|Spooler).*").check(classes);
        // the holder keeps and releases: no spool, no listing, no copy decision
        noClasses().that().haveFullyQualifiedName(TAIL + "ChainHolder").should().dependOnClassesThat()
                .resideInAPackage("io.logferry.spool..")
                .orShould().dependOnClassesThat().haveNameMatching("io\\.logferry\\.tail\\.Chain(Scanner|Spooler|HandOff).*")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.nio.file.Files").check(classes);
    }

    @Test
    void theChainsStateIsOneThreadsAndOnlyTheHandOffIsLocked() {
        // every field of the scanner, holder and spooler is the watch thread's: no lock, no concurrent collection;
        // the hand-off queues (ChainHandOff, LogPrefetcher.Newer) take a ReentrantLock, and nothing synchronizes
        noClasses().that().haveNameMatching("io\\.logferry\\.tail\\.Chain(Scanner|Holder|Spooler)")
                .should().dependOnClassesThat().resideInAPackage("java.util.concurrent.locks..")
                .orShould().dependOnClassesThat().haveNameMatching("java\\.util\\.concurrent\\.(Concurrent|CopyOnWrite).*")
                .check(classes);
        com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noMethods().that().areDeclaredInClassesThat()
                .haveNameMatching("io\\.logferry\\.tail\\.(RotationChain|RotationWatch|LogPrefetcher|Chain).*")
                .should().haveModifier(com.tngtech.archunit.core.domain.JavaModifier.SYNCHRONIZED).check(classes);
    }

    @Test
    void aReadSourceChangesOnTheWatchThreadOnly() {
        // a read source's state (sequence, spooled, closed, acknowledged, retry time) is changed on the watch thread only:
        // by the holder and the spooler; the tailer makes a source and posts it
        noClasses().that().doNotHaveFullyQualifiedName(TAIL + "ChainHolder").and().doNotHaveFullyQualifiedName(TAIL + "ChainSpooler")
                .and().doNotHaveFullyQualifiedName(TAIL + "RotationChain$Source")
                .should().setFieldWhere(com.tngtech.archunit.base.DescribedPredicate.describe("a field of RotationChain.Source",
                        a -> a.getTarget().getOwner().getName().equals(TAIL + "RotationChain$Source")))
                .check(classes);
    }

    @Test
    void theSpoolKnowsFilesAndBytesOnly() {
        rule("spool", "tail", "decode", "pipeline", "elasticsearch", "docker", "selection", "registry", "http", "cli", "config")
                .check(classes);
        rule("decode", "spool").check(classes);
        rule("elasticsearch", "spool").check(classes);
        rule("pipeline", "spool").check(classes);
        noClasses().that().resideInAPackage("io.logferry.spool..").should().dependOnClassesThat()
                .belongToAnyOf(Agent.class).check(classes);
    }

    @Test
    void processorsArePureCodeOnTheModel() {
        // the decode stage runs them, selection compiles them from labels; they know nothing but the model
        rule("process", "config", "decode", "docker", "elasticsearch", "http", "logging", "metrics", "pipeline", "registry",
                "selection", "tail", "cli", "retry", "spool").check(classes);
        noClasses().that().resideInAPackage("io.logferry.process..").should().dependOnClassesThat()
                .belongToAnyOf(Agent.class).check(classes);
        noClasses().that().resideInAPackage("io.logferry.process..").should().dependOnClassesThat()
                .resideInAnyPackage("java.io..", "java.nio..", "java.net..").check(classes);
        rule("elasticsearch", "process").check(classes);
        rule("tail", "process").check(classes);
    }

    @Test
    void theResumeOrderIsAPureDecision() {
        // issue 24: where a tailer resumes is decided from what the caller listed (files, segments, the registry's chain),
        // with no I/O of its own and no clock: no channel, no stream, no Files, no first-line times
        noClasses().that().haveFullyQualifiedName("io.logferry.tail.ResumePlan").should().dependOnClassesThat()
                .resideInAnyPackage("java.io..", "java.nio.channels..", "java.time..")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.nio.file.Files")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("io.logferry.tail.FileIdentity").check(classes);
    }

    /** Classes in {@code io.logferry.<from>} depend on none of the packages {@code io.logferry.<to>}. */
    private static ArchRule rule(String from, String... to) {
        String[] targets = new String[to.length];
        for (int i = 0; i < to.length; i++) {
            targets[i] = "io.logferry." + to[i] + "..";
        }
        return noClasses().that().resideInAPackage("io.logferry." + from + "..").should().dependOnClassesThat()
                .resideInAnyPackage(targets).because("docs/architecture.md: data moves forward only, one package per stage");
    }
}
